"""`--git PATH` on a repository already on disk (a clone or a bare directory): read at HEAD, never cloned."""

from __future__ import annotations

from pathlib import Path

import pytest
from collect_fixtures import GPL3_TEXT, MIT_TEXT, SCRIPTS, git, make_repo, read_manifest, read_records

GPL_SCRIPT = '#!/bin/bash\n# part of a GPL project\nfor f in *.txt; do wc -l "$f"; done | sort -n | tail -5\n'


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A working clone with one commit, MIT-licensed, and no remote."""
    root = tmp_path / "src" / "tools"
    make_repo(
        root,
        {
            "LICENSE": MIT_TEXT,
            "bin/backup.sh": SCRIPTS["backup.sh"],
            "bin/deploy": SCRIPTS["deploy.sh"],
            "README.md": "# tools\n",
        },
    )
    return root


def head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo).strip()


def git_cache(cache_home: Path) -> list[Path]:
    folder = cache_home / "bashcoder" / "git"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_local_clone_is_read_at_head_without_cloning(
    clone: Path, tmp_path: Path, collect, cache_home: Path
) -> None:
    out = tmp_path / "out"
    result = collect("--git", clone, "--out", out)
    assert result.exit_code == 0, result.stderr
    records = read_records(out)
    assert [(r["source"], r["group"], r["path"], r["license"]) for r in records] == [
        ("git", str(clone.resolve()), "bin/backup.sh", "MIT"),
        ("git", str(clone.resolve()), "bin/deploy", "MIT"),
    ]
    assert records[0]["text"] == SCRIPTS["backup.sh"]
    info = read_manifest(out)["inputs"][f"git:{clone.resolve()}"]
    assert info["version"] == head(clone) and len(info["version"]) == 40
    assert info["license"] == "MIT"
    # Nothing was cloned into the cache.
    assert git_cache(cache_home) == []


def test_uncommitted_edits_and_untracked_files_are_not_collected(
    clone: Path, tmp_path: Path, collect
) -> None:
    (clone / "bin" / "backup.sh").write_text(SCRIPTS["backup.sh"] + "echo uncommitted-edit-5521\n")
    (clone / "bin" / "deploy").unlink()  # deleted in the work tree, still in HEAD
    (clone / "untracked.sh").write_text(SCRIPTS["count.sh"])
    out = tmp_path / "out"
    assert collect("--git", clone, "--out", out).exit_code == 0
    records = read_records(out)
    assert [r["path"] for r in records] == ["bin/backup.sh", "bin/deploy"]
    assert records[0]["text"] == SCRIPTS["backup.sh"]
    assert records[1]["text"] == SCRIPTS["deploy.sh"]
    assert "uncommitted-edit-5521" not in (out / "corpus.jsonl").read_text()


def test_files_on_other_branches_are_not_collected(clone: Path, tmp_path: Path, collect) -> None:
    git("checkout", "-q", "-b", "feature", cwd=clone)
    (clone / "feature.sh").write_text(SCRIPTS["count.sh"])
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "feature", cwd=clone)
    git("checkout", "-q", "main", cwd=clone)
    out = tmp_path / "out"
    assert collect("--git", clone, "--out", out).exit_code == 0
    assert [r["path"] for r in read_records(out)] == ["bin/backup.sh", "bin/deploy"]


def test_a_bare_repository_gives_the_same_files_as_its_clone(
    clone: Path, tmp_path: Path, collect, cache_home: Path
) -> None:
    bare = tmp_path / "mirror" / "tools.git"
    bare.parent.mkdir()
    git("clone", "-q", "--bare", str(clone), str(bare), cwd=tmp_path)
    assert not (bare / ".git").exists() and (bare / "HEAD").is_file()
    from_clone, from_bare = tmp_path / "from-clone", tmp_path / "from-bare"
    assert collect("--git", clone, "--out", from_clone).exit_code == 0
    result = collect("--git", bare, "--out", from_bare)
    assert result.exit_code == 0, result.stderr
    one, two = read_records(from_clone), read_records(from_bare)
    assert [(r["path"], r["text"], r["license"]) for r in two] == [
        (r["path"], r["text"], r["license"]) for r in one
    ]
    # `git clone --bare` records where it came from: the group is that origin, as a clone of it would name it.
    assert {r["group"] for r in two} == {str(clone)}
    manifest = read_manifest(from_bare)
    assert manifest["inputs"][f"git:{clone}"]["version"] == head(clone)
    assert git_cache(cache_home) == []


def test_the_group_is_the_origin_url_without_its_credentials(clone: Path, tmp_path: Path, collect) -> None:
    git("remote", "add", "origin", "https://bot:hunter2-secret@git.example.com/team/tools.git", cwd=clone)
    out = tmp_path / "out"
    result = collect("--git", clone, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert {r["group"] for r in read_records(out)} == {"https://git.example.com/team/tools.git"}
    assert list(read_manifest(out)["inputs"]) == ["git:https://git.example.com/team/tools.git"]
    written = (out / "corpus.jsonl").read_text() + (out / "manifest.json").read_text()
    assert "hunter2-secret" not in written + result.stdout + result.stderr
    assert "bot@" not in written


def test_a_gpl_local_repository_is_dropped_by_the_license_rule(tmp_path: Path, collect) -> None:
    root = tmp_path / "src" / "gpl-tools"
    make_repo(root, {"COPYING": GPL3_TEXT, "run.sh": GPL_SCRIPT * 3})
    mit = tmp_path / "src" / "mit-tools"
    make_repo(mit, {"LICENSE": MIT_TEXT, "ok.sh": SCRIPTS["posix.sh"]})
    out = tmp_path / "out"
    result = collect("--git", root, "--git", mit, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert [(r["path"], r["license"]) for r in read_records(out)] == [("ok.sh", "MIT")]
    gpl_info = read_manifest(out)["inputs"][f"git:{root.resolve()}"]
    assert gpl_info["license"] == "GPL-3.0-only"
    assert gpl_info["drops"]["license-not-allowed"] == 1


def test_symlinks_in_a_local_repository_are_counted_and_not_read(tmp_path: Path, collect) -> None:
    outside = tmp_path / "outside.sh"
    outside.write_text("#!/bin/sh\necho outside-of-repo-9911\n" * 4)
    root = tmp_path / "src" / "linky"
    make_repo(root, {"LICENSE": MIT_TEXT, "ok.sh": SCRIPTS["backup.sh"]})
    (root / "evil.sh").symlink_to(outside)
    (root / "etc").symlink_to("/etc")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "links", cwd=root)
    out = tmp_path / "out"
    result = collect("--git", root, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert [r["path"] for r in read_records(out)] == ["ok.sh"]
    assert "outside-of-repo-9911" not in (out / "corpus.jsonl").read_text()
    manifest = read_manifest(out)
    assert manifest["drops"]["symlink"] == 2
    assert manifest["inputs"][f"git:{root.resolve()}"]["drops"]["symlink"] == 2


def test_a_new_commit_replaces_the_repositorys_records_on_rerun(clone: Path, tmp_path: Path, collect) -> None:
    out = tmp_path / "out"
    assert collect("--git", clone, "--out", out).exit_code == 0
    first = head(clone)
    (clone / "bin" / "deploy").unlink()
    (clone / "bin" / "count.sh").write_text(SCRIPTS["count.sh"])
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "more", cwd=clone)
    assert collect("--git", clone, "--out", out).exit_code == 0
    assert sorted(r["path"] for r in read_records(out)) == ["bin/backup.sh", "bin/count.sh"]
    version = read_manifest(out)["inputs"][f"git:{clone.resolve()}"]["version"]
    assert version == head(clone) != first
