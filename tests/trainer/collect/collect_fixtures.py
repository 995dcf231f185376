"""Builders and sample data shared by the collector tests (imported by name: tests have no packages)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

MIT_TEXT = textwrap.dedent(
    """\
    MIT License

    Copyright (c) 2024 Test Author

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
    """
)
GPL3_TEXT = textwrap.dedent(
    """\
                        GNU GENERAL PUBLIC LICENSE
                           Version 3, 29 June 2007

     Copyright (C) 2007 Free Software Foundation, Inc. <https://fsf.org/>
     Everyone is permitted to copy and distribute verbatim copies
     of this license document, but changing it is not allowed.
    """
)
DEP5_MIT = textwrap.dedent(
    """\
    Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
    Upstream-Name: {name}

    Files: *
    Copyright: 2024 Test Author
    License: Expat

    Files: debian/*
    Copyright: 2024 Debian Packager
    License: GPL-2+

    License: Expat
     Permission is hereby granted, free of charge, to any person obtaining a copy...
    """
)


def script(body: str, shebang: str = "#!/bin/bash") -> str:
    """A shell script with enough distinct content to pass the size filter."""
    return f"{shebang}\n{textwrap.dedent(body).strip()}\n"


# Distinct, realistic scripts: each differs enough from the others to survive near-dedup.
SCRIPTS = {
    "backup.sh": script(
        """
        set -euo pipefail
        src="${1:?usage: backup.sh SRC DEST}"
        dest="${2:?usage: backup.sh SRC DEST}"
        stamp=$(date +%Y%m%d)
        tar -czf "$dest/backup-$stamp.tar.gz" -C "$src" .
        find "$dest" -name 'backup-*.tar.gz' -mtime +30 -delete
        echo "backup of $src written to $dest"
        """
    ),
    "deploy.sh": script(
        """
        for host in web1 web2 web3; do
            if ! ssh -o BatchMode=yes "$host" true; then
                echo "cannot reach $host" >&2
                continue
            fi
            rsync -az --delete ./build/ "$host:/srv/app/"
            ssh "$host" 'systemctl restart app'
        done
        """
    ),
    "count.sh": script(
        """
        declare -A seen
        while IFS= read -r line; do
            word=${line%% *}
            seen[$word]=$(( ${seen[$word]:-0} + 1 ))
        done < "${1:-/dev/stdin}"
        for word in "${!seen[@]}"; do
            printf '%6d %s\\n' "${seen[$word]}" "$word"
        done | sort -rn | head -n 20
        """
    ),
    "lib/log.sh": script(
        """
        log() { printf '%s [%s] %s\\n' "$(date -Is)" "$1" "${*:2}" >&2; }
        info() { log INFO "$@"; }
        warn() { log WARN "$@"; }
        die() { log ERROR "$@"; exit 1; }
        case "${LOG_LEVEL:-info}" in
            debug|info|warn) : ;;
            *) die "unknown LOG_LEVEL $LOG_LEVEL" ;;
        esac
        """,
        shebang="#!/usr/bin/env bash",
    ),
    "posix.sh": script(
        """
        # plain POSIX sh: no arrays, no [[ ]]
        usage() { echo "usage: $0 [-v] FILE..." >&2; exit 2; }
        verbose=0
        while getopts v opt; do
            case $opt in v) verbose=1 ;; *) usage ;; esac
        done
        shift $((OPTIND - 1))
        [ $# -gt 0 ] || usage
        for f do [ "$verbose" -eq 1 ] && echo "checking $f"; test -r "$f" || echo "unreadable: $f"; done
        """,
        shebang="#!/bin/sh",
    ),
}


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def git(*args: str, cwd: Path) -> str:
    env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", HOME=str(cwd), LC_ALL="C")
    cmd = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    cmd += ["-c", "init.defaultBranch=main", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, files: dict[str, str | bytes]) -> str:
    """A local git repository with one commit; returns its file:// URL."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root.mkdir(parents=True)
    write_tree(root, files)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "initial", cwd=root)
    return root.as_uri()


def build_deb(
    workdir: Path,
    package: str,
    files: dict[str, str | bytes],
    *,
    copyright_text: str | None = None,
    maintainer_scripts: dict[str, str] | None = None,
    symlinks: dict[str, str] | None = None,
    version: str = "1.0-1",
) -> Path:
    """A real .deb built with `dpkg-deb --build` from a staging tree."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (apt-get install dpkg)")
    stage = workdir / f"{package}-stage"
    (stage / "DEBIAN").mkdir(parents=True)
    control = (
        f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: Test <test@example.com>\nDescription: test package\n"
    )
    (stage / "DEBIAN" / "control").write_text(control)
    for name, body in (maintainer_scripts or {}).items():
        path = stage / "DEBIAN" / name
        path.write_text(body)
        path.chmod(0o755)
    write_tree(stage, files)
    if copyright_text is not None:
        write_tree(stage, {f"usr/share/doc/{package}/copyright": copyright_text})
    for link, target in (symlinks or {}).items():
        (stage / link).parent.mkdir(parents=True, exist_ok=True)
        (stage / link).symlink_to(target)
    out = workdir / f"{package}_{version}_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(stage), str(out)],
        check=True,
        capture_output=True,
    )
    return out


def read_records(out: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in (out / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]


def read_manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))
