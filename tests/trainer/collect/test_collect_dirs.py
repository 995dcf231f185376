"""Directory sources are safe: no symlink is followed out of a root, loops end, FIFOs and devices are
skipped unopened, unreadable and non-UTF-8 files are counted; --system never enters a home directory."""

from __future__ import annotations

import os
import stat
import threading
from collections import Counter
from pathlib import Path

import pytest
from collect_fixtures import MIT_TEXT, SCRIPTS, read_manifest, read_records, write_tree

from bashcoder.trainer.collect.sources.dirs import DirInput, DpkgOwners, root_license, system_roots
from bashcoder.trainer.collect.walk import walk

NESTED = (
    "#!/bin/bash\n# rotate logs kept deep in the tree\nshopt -s nullglob\n"
    'for log in /var/log/app/*.log; do\n  [[ -s $log ]] || continue\n  gzip -9 "$log"\n  : > "$log"\ndone\n'
)
OUTSIDE_SECRET = (
    "#!/bin/bash\n# this file lives outside the root and must never be collected\necho outside-marker-7731\n"
)


@pytest.fixture
def hostile_tree(tmp_path: Path) -> Path:
    """Scripts plus every kind of trap a walker meets in the wild."""
    outside = write_tree(tmp_path / "outside", {"secret.sh": OUTSIDE_SECRET, "more/x.sh": OUTSIDE_SECRET})
    root = write_tree(tmp_path / "root", dict(SCRIPTS))
    write_tree(
        root,
        {
            "notes.txt": "just text, not a script\n" * 5,
            "prompt.zsh": "#!/bin/zsh\nautoload -U compinit && compinit\nsetopt prompt_subst\n" * 2,
            "tool.py": "#!/usr/bin/env python3\nprint('hello from python, not bash')\n" * 2,
            "blob.sh": b"#!/bin/sh\necho start\n" + b"\x00\x01\x02\x03" * 40,
            "latin1.sh": "#!/bin/sh\n# café au lait, ünïcödé in latin-1\necho 'crème brûlée'\n".encode(
                "latin-1"
            ),
            "deep/a/b/c/d/e/f/nested.sh": NESTED,
        },
    )
    (root / "loop").symlink_to(".")  # a loop back to the root
    (root / "deep" / "a" / "up").symlink_to("..")  # and one inside
    (root / "escape.sh").symlink_to(outside / "secret.sh")  # file symlink out of the root
    (root / "escape-dir").symlink_to(outside)  # directory symlink out of the root
    (root / "dangling.sh").symlink_to(tmp_path / "missing.sh")
    os.mkfifo(root / "pipe.sh")
    return root


def test_walk_never_leaves_the_root_and_survives_loops(hostile_tree: Path) -> None:
    drops: Counter[str] = Counter()
    result: list[str] = []

    def run() -> None:
        result.extend(entry.path for entry in walk(str(hostile_tree), drops))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "walk hung (symlink loop or FIFO open)"
    assert "backup.sh" in result and "deep/a/b/c/d/e/f/nested.sh" in result
    assert not any(p.startswith(("loop", "escape", "dangling")) or "/up/" in p for p in result)
    assert drops["symlink"] == 5
    assert drops["not-regular-file"] == 1  # the FIFO, never opened


def test_collect_dir_keeps_scripts_and_counts_every_drop(hostile_tree: Path, tmp_path: Path, collect) -> None:
    out = tmp_path / "out"
    result = collect("--dir", hostile_tree, "--out", out)
    assert result.exit_code == 0, result.stderr
    records = read_records(out)
    paths = {r["path"] for r in records}
    assert paths == {*SCRIPTS, "deep/a/b/c/d/e/f/nested.sh"}
    assert all("outside-marker-7731" not in r["text"] for r in records)
    assert {r["source"] for r in records} == {"dir"}
    assert {r["group"] for r in records} == {str(hostile_tree.resolve())}
    drops = read_manifest(out)["drops"]
    assert drops["symlink"] == 5
    assert drops["not-regular-file"] == 1
    assert drops["binary"] == 1
    assert drops["non-utf8"] == 1
    assert drops["other-language"] == 2  # zsh and python
    assert drops["not-shell"] == 1  # notes.txt


def test_device_files_are_skipped_unopened(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "root", {"ok.sh": SCRIPTS["backup.sh"]})
    try:
        os.mknod(root / "null.sh", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(
            f"cannot create a device node here ({exc.strerror}); needs root outside a restricted container"
        )
    drops: Counter[str] = Counter()
    assert [e.path for e in walk(str(root), drops)] == ["ok.sh"]
    assert drops["not-regular-file"] == 1


def test_unreadable_files_are_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path / "root", {"ok.sh": SCRIPTS["backup.sh"], "locked.sh": SCRIPTS["deploy.sh"]})
    (root / "locked.sh").chmod(0)
    if os.geteuid() == 0:
        # root reads mode-000 files, so make the kernel's EACCES happen the only way it can for root.
        real_open = os.open

        def deny(path, flags, *args, **kwargs):  # noqa: ANN001, ANN202
            if path == "locked.sh":
                raise PermissionError(13, "Permission denied", path)
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", deny)
    drops: Counter[str] = Counter()
    assert [e.path for e in walk(str(root), drops)] == ["ok.sh"]
    assert drops["unreadable"] == 1


def test_root_given_as_a_symlink_is_resolved(tmp_path: Path) -> None:
    real = write_tree(tmp_path / "real", {"a.sh": SCRIPTS["backup.sh"]})
    (tmp_path / "alias").symlink_to(real)
    assert [e.path for e in walk(str(tmp_path / "alias"), Counter())] == ["a.sh"]


def test_system_scan_never_enters_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(
        tmp_path / "sysroot", {"usr/bin/tool": SCRIPTS["backup.sh"], "home/me/private.sh": OUTSIDE_SECRET}
    )
    monkeypatch.setenv("HOME", str(root / "home" / "me"))
    inp = DirInput(root, system=True)
    paths = [e.path for e in inp.entries(Counter())]
    assert paths == ["usr/bin/tool"]
    home = os.path.realpath(os.path.expanduser("~"))
    assert all(not home.startswith(str(r) + "/") and str(r) != home for r in system_roots())


def test_system_roots_are_existing_and_not_nested() -> None:
    roots = [str(r) for r in system_roots()]
    assert roots and all(os.path.isdir(r) for r in roots)
    for a in roots:
        assert not any(b != a and a.startswith(b.rstrip("/") + "/") for b in roots)


def test_user_root_license_from_its_license_file(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "proj", {"LICENSE": MIT_TEXT, "run.sh": SCRIPTS["backup.sh"]})
    assert root_license(str(root)) == "MIT"
    assert root_license(str(write_tree(tmp_path / "bare", {"x.sh": "#!/bin/sh\n"}))) == "unknown"


def test_system_files_take_their_package_license(tmp_path: Path) -> None:
    info = write_tree(tmp_path / "info", {"tool.list": "/usr\n/usr/bin\n/usr/bin/tool\n/bin/legacy\n"})
    docs = write_tree(tmp_path / "doc", {"tool/copyright": MIT_TEXT})
    owners = DpkgOwners(str(info), str(docs))
    assert owners.package_of("/usr/bin/tool") == "tool"
    assert owners.package_of("/usr/bin/legacy") == "tool"  # merged /usr
    assert owners.package_of(f"{info}/tool.postinst") == "tool"  # maintainer scripts
    assert owners.license_of("/usr/bin/tool") == "MIT"
    assert owners.license_of("/usr/bin/nobody") is None
