"""Debian sources with .debs built here by `dpkg-deb --build` (and one crafted to attack the reader)."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
from collections import Counter
from pathlib import Path

import pytest
from collect_fixtures import DEP5_MIT, SCRIPTS, build_deb, read_manifest, read_records

from bashcoder.trainer.collect.sources.debian import DebInput, ar_members, safe_member_path

COMPLETION = """# bash completion for tool
_tool()
{
    local cur prev
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        --config) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
    esac
    COMPREPLY=( $(compgen -W '--help --version --config --verbose' -- "$cur") )
}
complete -F _tool tool
"""
POSTINST = """#!/bin/sh
set -e
case "$1" in
    configure)
        if ! getent passwd tooluser >/dev/null; then
            adduser --system --group --home /var/lib/tool tooluser
        fi
        ;;
esac
exit 0
"""


@pytest.fixture
def tool_deb(tmp_path: Path) -> Path:
    return build_deb(
        tmp_path,
        "tool",
        {
            "usr/bin/tool": SCRIPTS["deploy.sh"],
            "usr/lib/tool/helper.sh": SCRIPTS["lib/log.sh"],
            "usr/share/bash-completion/completions/tool": COMPLETION,
            "usr/share/tool/prompt.zsh": "#!/bin/zsh\nautoload -U colors && colors\nPROMPT='%n@%m %# '\n",
            "usr/lib/tool/blob": b"#!/bin/sh\n" + b"\x00binary\x01" * 30,
            "usr/share/man/man1/tool.1": ".TH TOOL 1\n.SH NAME\ntool \\- does things\n",
        },
        copyright_text=DEP5_MIT.format(name="tool"),
        maintainer_scripts={"postinst": POSTINST},
        symlinks={"usr/bin/tool-alias": "tool"},
        version="2.4-1",
    )


def test_deb_file_is_read_with_its_license_and_maintainer_scripts(
    tool_deb: Path, tmp_path: Path, collect
) -> None:
    out = tmp_path / "out"
    result = collect("--deb-file", tool_deb, "--out", out)
    assert result.exit_code == 0, result.stderr
    records = read_records(out)
    assert {(r["source"], r["group"], r["license"]) for r in records} == {("debian", "tool", "MIT")}
    assert sorted(r["path"] for r in records) == [
        "DEBIAN/postinst",
        "usr/bin/tool",
        "usr/lib/tool/helper.sh",
        "usr/share/bash-completion/completions/tool",
    ]
    info = read_manifest(out)["inputs"]["debian:tool"]
    assert info["version"] == "2.4-1" and info["license"] == "MIT"
    assert info["drops"]["symlink"] == 1
    assert info["drops"]["binary"] == 1
    assert info["drops"]["other-language"] == 1


def test_debian_option_accepts_a_deb_path(tool_deb: Path, tmp_path: Path, collect) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert collect("--debian", tool_deb, "--out", a).exit_code == 0
    assert collect("--deb-file", tool_deb, "--out", b).exit_code == 0
    assert (a / "corpus.jsonl").read_bytes() == (b / "corpus.jsonl").read_bytes()


def test_zstd_compressed_packages(tmp_path: Path) -> None:
    if shutil.which("zstd") is None:
        pytest.skip("zstd is not installed (apt-get install zstd)")
    deb = build_deb(
        tmp_path, "zpkg", {"usr/bin/z": SCRIPTS["count.sh"]}, copyright_text=DEP5_MIT.format(name="zpkg")
    )
    rebuilt = tmp_path / "zpkg_zst.deb"
    stage = tmp_path / "zpkg-stage"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zzstd", "--build", str(stage), str(rebuilt)],
        check=True,
        capture_output=True,
    )
    with open(rebuilt, "rb") as fh:
        assert any(name.endswith(".zst") for name, _, _ in ar_members(fh))
    inp = DebInput(rebuilt)
    inp.prepare()
    paths = [e.path for e in inp.entries(Counter())]
    assert paths == ["usr/bin/z"] and inp.license == "MIT"
    assert deb.exists()


def _ar(members: list[tuple[str, bytes]]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        out += header + data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def _tar(entries: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for entry in entries:
            if isinstance(entry, tuple):
                tf.addfile(entry[0], io.BytesIO(entry[1]))
            else:
                tf.addfile(entry)
    return buf.getvalue()


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o755
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_a_hostile_archive_never_writes_anywhere(tmp_path: Path, collect) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    payload = SCRIPTS["backup.sh"].encode()
    control = _tar([_file("./control", b"Package: evil\nVersion: 6.6.6\nArchitecture: all\n")])
    data = _tar(
        [
            _file("./usr/bin/fine.sh", payload),
            _file("../../../../../../../../" + str(victim / "escape.sh").lstrip("/"), payload),
            _file(str(victim / "absolute.sh"), payload),
            _link("./usr/lib/victim", str(victim)),
            _file("./usr/lib/victim/through-link.sh", SCRIPTS["count.sh"].encode()),
            _link("./usr/lib/hard", "/etc/passwd", tarfile.LNKTYPE),
        ]
    )
    deb = tmp_path / "evil_6.6.6_all.deb"
    deb.write_bytes(_ar([("debian-binary", b"2.0\n"), ("control.tar.gz", control), ("data.tar.gz", data)]))
    before = sorted(os.listdir(victim))
    result = collect("--deb-file", deb, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert sorted(os.listdir(victim)) == before == []
    records = read_records(tmp_path / "out")
    # Paths are archive-relative: nothing absolute, nothing climbing out.
    assert sorted(r["path"] for r in records) == ["usr/bin/fine.sh", "usr/lib/victim/through-link.sh"]
    info = read_manifest(tmp_path / "out")["inputs"]["debian:evil"]
    assert info["drops"]["unsafe-path"] == 2
    assert info["drops"]["symlink"] == 2


def test_member_paths_are_made_safe() -> None:
    assert safe_member_path("./usr/bin/x") == "usr/bin/x"
    assert safe_member_path("./") == ""
    assert safe_member_path("/etc/passwd") is None
    assert safe_member_path("./usr/../../x") is None


def test_a_broken_deb_is_a_warning_not_a_crash(tmp_path: Path, tool_deb: Path, collect) -> None:
    broken = tmp_path / "broken_1_all.deb"
    broken.write_bytes(b"!<arch>\ngarbage")
    result = collect("--deb-file", broken, "--deb-file", tool_deb, "--out", tmp_path / "out")
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "not a readable .deb" in result.stderr
    assert read_records(tmp_path / "out")


def test_missing_apt_is_one_clear_line(tmp_path: Path, collect, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = collect("--debian", "bash-completion", "--out", tmp_path / "out")
    assert result.exit_code == 1
    warnings = [line for line in result.stderr.splitlines() if "apt-get not found" in line]
    assert len(warnings) == 1 and "--deb-file" in warnings[0]


def _apt_reachable() -> str | None:
    if shutil.which("apt-get") is None:
        return "apt-get is not installed"
    try:
        proc = subprocess.run(
            ["apt-get", "download", "--print-uris", "dehydrated"], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return "apt-get timed out"
    if proc.returncode != 0 or "dehydrated" not in proc.stdout:
        return "apt has no package lists for dehydrated (run apt-get update)"
    return None


@pytest.mark.network
@pytest.mark.slow
def test_apt_get_download_of_a_real_package(tmp_path: Path, collect, cache_home: Path) -> None:
    reason = _apt_reachable()
    if reason:
        pytest.skip(reason)
    out = tmp_path / "out"
    result = collect("--debian", "dehydrated,no-such-package-zz9", "--out", out)
    if "Failed to fetch" in result.stderr or "Temporary failure" in result.stderr:
        pytest.skip("no Debian mirror reachable from here")
    assert result.exit_code == 0, result.stderr
    assert "no-such-package-zz9" in result.stderr
    records = read_records(out)
    assert records and {r["group"] for r in records} == {"dehydrated"}
    assert any(p.name.startswith("dehydrated_") for p in (cache_home / "bashcoder" / "debian").iterdir())
    # A second run reuses the cached .deb and gives the same corpus.
    again = tmp_path / "again"
    assert collect("--debian", "dehydrated", "--out", again).exit_code == 0
    assert (again / "corpus.jsonl").read_bytes() == (out / "corpus.jsonl").read_bytes()


def test_a_truncated_deb_is_a_warning(tmp_path: Path, tool_deb: Path, collect) -> None:
    cut = tmp_path / "cut_1_all.deb"
    data = tool_deb.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    result = collect("--deb-file", cut, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "cut short" in result.stderr and "skipped" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: nothing was collected")
