"""Git sources with real local repositories cloned by file:// URL: the license rule, the cache, and
clones that run no hooks and fetch no submodules."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from collect_fixtures import GPL3_TEXT, MIT_TEXT, SCRIPTS, git, make_repo, read_manifest, read_records

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.collect.sources.git import cache_slug, normalize_url, redact_url

GPL_SCRIPT = '#!/bin/bash\n# part of a GPL project\nfor f in *.txt; do wc -l "$f"; done | sort -n | tail -5\n'


@pytest.fixture
def repos(tmp_path: Path) -> dict[str, str]:
    mit = make_repo(
        tmp_path / "src" / "mit-tools",
        {
            "LICENSE": MIT_TEXT,
            "bin/backup.sh": SCRIPTS["backup.sh"],
            "bin/deploy": SCRIPTS["deploy.sh"],
            "README.md": "# tools\n",
        },
    )
    gpl = make_repo(tmp_path / "src" / "gpl-tools", {"COPYING": GPL3_TEXT, "run.sh": GPL_SCRIPT * 3})
    return {"mit": mit, "gpl": gpl}


def test_permissive_repo_is_collected_and_gpl_repo_is_skipped(
    repos: dict[str, str], tmp_path: Path, collect, cache_home: Path
) -> None:
    out = tmp_path / "out"
    result = collect("--git", repos["mit"], "--git", repos["gpl"], "--out", out)
    assert result.exit_code == 0, result.stderr
    records = read_records(out)
    assert {(r["group"], r["path"], r["license"]) for r in records} == {
        (repos["mit"], "bin/backup.sh", "MIT"),
        (repos["mit"], "bin/deploy", "MIT"),
    }
    manifest = read_manifest(out)
    gpl_info = manifest["inputs"][f"git:{repos['gpl']}"]
    assert gpl_info["license"] == "GPL-3.0-only"
    assert gpl_info["drops"]["license-not-allowed"] == 1
    assert len(manifest["inputs"][f"git:{repos['mit']}"]["version"]) == 40  # the commit
    # Clones live in the user cache directory.
    clones = sorted(p.name for p in (cache_home / "bashcoder" / "git").iterdir())
    assert len(clones) == 2 and all(not c.startswith(".") for c in clones)


def test_allow_license_admits_the_gpl_repo(repos: dict[str, str], tmp_path: Path, collect) -> None:
    out = tmp_path / "out"
    result = collect("--git", repos["gpl"], "--allow-license", "GPL-3.0-only", "--out", out)
    assert result.exit_code == 0, result.stderr
    assert [(r["path"], r["license"]) for r in read_records(out)] == [("run.sh", "GPL-3.0-only")]


def test_clone_runs_no_hooks(
    repos: dict[str, str], tmp_path: Path, collect, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    marker = tmp_path / "hook-ran"
    hook = hooks / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    # The trap is real: a plain clone with this config runs the hook.
    subprocess.run(
        ["git", "clone", "-q", repos["mit"], str(tmp_path / "plain")], check=True, capture_output=True
    )
    assert marker.exists()
    marker.unlink()
    result = collect("--git", repos["mit"], "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert not marker.exists()


def test_submodules_are_not_fetched(repos: dict[str, str], tmp_path: Path, collect) -> None:
    sub = make_repo(tmp_path / "src" / "sub", {"LICENSE": MIT_TEXT, "inner.sh": SCRIPTS["count.sh"]})
    parent = tmp_path / "src" / "parent"
    url = make_repo(parent, {"LICENSE": MIT_TEXT, "top.sh": SCRIPTS["posix.sh"]})
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", sub, "vendor/sub", cwd=parent)
    git("commit", "-q", "-m", "add submodule", cwd=parent)
    result = collect("--git", url, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert [r["path"] for r in read_records(tmp_path / "out")] == ["top.sh"]


def test_rerun_refreshes_the_cached_clone(repos: dict[str, str], tmp_path: Path, collect) -> None:
    out = tmp_path / "out"
    assert collect("--git", repos["mit"], "--out", out).exit_code == 0
    first = read_manifest(out)["inputs"][f"git:{repos['mit']}"]["version"]
    src = Path(repos["mit"].removeprefix("file://"))
    (src / "bin" / "count.sh").write_text(SCRIPTS["count.sh"])
    (src / "bin" / "deploy").unlink()
    git("add", "-A", cwd=src)
    git("commit", "-q", "-m", "more", cwd=src)
    assert collect("--git", repos["mit"], "--out", out).exit_code == 0
    manifest = read_manifest(out)
    assert manifest["inputs"][f"git:{repos['mit']}"]["version"] != first
    # The re-scan replaced the repository's records: deploy is gone, count.sh arrived.
    assert sorted(r["path"] for r in read_records(out)) == ["bin/backup.sh", "bin/count.sh"]


def test_symlinks_in_a_repo_are_not_followed(tmp_path: Path, collect) -> None:
    outside = tmp_path / "outside.sh"
    outside.write_text("#!/bin/sh\necho outside-of-repo-9911\n" * 4)
    root = tmp_path / "src" / "linky"
    url = make_repo(root, {"LICENSE": MIT_TEXT, "ok.sh": SCRIPTS["backup.sh"]})
    (root / "evil.sh").symlink_to(outside)
    (root / "etc").symlink_to("/etc")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "links", cwd=root)
    result = collect("--git", url, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    records = read_records(tmp_path / "out")
    assert [r["path"] for r in records] == ["ok.sh"]
    assert read_manifest(tmp_path / "out")["drops"]["symlink"] == 2


def test_unreachable_repo_is_one_error_line(tmp_path: Path, collect) -> None:
    result = collect("--git", (tmp_path / "nope").as_uri(), "--out", tmp_path / "out")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("warning: git clone") for line in lines)
    assert lines[-1].startswith("error: ")
    assert not (tmp_path / "out" / "corpus.jsonl").exists()


@pytest.mark.parametrize("url", ["ext::sh -c touch% /tmp/pwned", "--upload-pack=touch /tmp/x", "not a url"])
def test_dangerous_or_odd_urls_are_refused(url: str) -> None:
    with pytest.raises(BashcoderError, match="not a repository URL"):
        normalize_url(url)


def test_urls_lose_their_credentials_in_groups_and_cache_names(tmp_path: Path) -> None:
    assert redact_url("https://bot:s3cret@github.com/o/r.git") == "https://github.com/o/r.git"
    assert "s3cret" not in cache_slug("https://bot:s3cret@github.com/o/r.git")
    assert cache_slug("https://github.com/o/r") != cache_slug("https://github.com/o/r2")
    assert normalize_url(str(tmp_path)) == tmp_path.resolve().as_uri()
    assert normalize_url("git@github.com:owner/repo.git") == "git@github.com:owner/repo.git"
    assert os.sep not in cache_slug("file:///a/b/c")


def test_a_password_in_a_failing_url_is_never_printed(tmp_path: Path, collect) -> None:
    result = collect(
        "--git",
        "http://bot:hunter2-secret@127.0.0.1:9/none.git",
        "--git-timeout",
        "20",
        "--out",
        tmp_path / "o",
    )
    assert result.exit_code == 1
    assert "hunter2-secret" not in result.stderr + result.stdout
