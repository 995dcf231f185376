"""bashcoder-collect end to end: byte-identical output, merging re-runs, dry runs, Ctrl-C, errors."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from collect_fixtures import SCRIPTS, read_manifest, read_records, write_tree

from bashcoder.trainer.collect import corpus as corpus_io
from bashcoder.trainer.collect import pipeline
from bashcoder.trainer.collect.lists import default_list, parse_list_text
from bashcoder.trainer.collect.sources.debian import PACKAGE_NAME
from bashcoder.trainer.collect.sources.git import normalize_url

EXTRA = {
    "extra/healthcheck.sh": "#!/bin/bash\nurl=${1:-http://localhost:8080/health}\n"
    'for i in {1..10}; do\n  curl -fsS "$url" >/dev/null && exit 0\n  sleep $((i * 2))\ndone\n'
    'echo "$url is down" >&2\nexit 1\n',
    "extra/mkuser.sh": '#!/bin/sh\nset -eu\nname=$1\nid "$name" >/dev/null 2>&1 && exit 0\n'
    'useradd --create-home --shell /bin/bash "$name"\npasswd --expire "$name"\n',
}


@pytest.fixture
def trees(tmp_path: Path) -> dict[str, Path]:
    a = write_tree(tmp_path / "a", {k: v for k, v in SCRIPTS.items() if k != "count.sh"})
    near = SCRIPTS["deploy.sh"].replace("web1 web2 web3", "api1 api2")
    b = write_tree(tmp_path / "b", {"count.sh": SCRIPTS["count.sh"], "copy-of-deploy.sh": near, **EXTRA})
    return {"a": a, "b": b}


def test_records_have_the_documented_fields_sorted_and_hashed(
    trees: dict[str, Path], tmp_path: Path, collect
) -> None:
    out = tmp_path / "out"
    result = collect("--dir", trees["a"], "--out", out)
    assert result.exit_code == 0, result.stderr
    records = read_records(out)
    assert all(list(r) == ["text", "source", "group", "path", "license", "sha256"] for r in records)
    assert all(r["sha256"] == hashlib.sha256(r["text"].encode()).hexdigest() for r in records)
    keys = [(r["source"], r["group"], r["path"]) for r in records]
    assert keys == sorted(keys)
    manifest = read_manifest(out)
    assert manifest["files"] == len(records) == 4
    assert manifest["bytes"] == sum(len(r["text"].encode()) for r in records)
    assert manifest["by_source"]["dir"]["files"] == 4
    assert manifest["by_license"]["unknown"]["files"] == 4
    assert manifest["corpus_sha256"] == hashlib.sha256((out / "corpus.jsonl").read_bytes()).hexdigest()
    assert manifest["versions"]["bashcoder"]
    # The summary table is on stdout.
    assert "sources" in result.stdout and "licenses" in result.stdout and "wrote 4 files" in result.stdout


def test_same_inputs_give_byte_identical_output(trees: dict[str, Path], tmp_path: Path, collect) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert collect("--dir", trees["a"], "--dir", trees["b"], "--out", one).exit_code == 0
    assert collect("--dir", trees["b"], "--dir", trees["a"], "--out", two).exit_code == 0
    for name in ("corpus.jsonl", "manifest.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes()


def test_output_does_not_depend_on_the_hash_seed(trees: dict[str, Path], tmp_path: Path) -> None:
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed, XDG_CACHE_HOME=str(tmp_path / "cache"))
        code = "from bashcoder.cli.collect import main; main()"
        subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "--dir",
                str(trees["a"]),
                "--dir",
                str(trees["b"]),
                "--out",
                str(out),
                "-q",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        outs.append((out / "corpus.jsonl").read_bytes() + (out / "manifest.json").read_bytes())
    assert outs[0] == outs[1]


def test_near_duplicates_across_sources_collapse(trees: dict[str, Path], tmp_path: Path, collect) -> None:
    out = tmp_path / "out"
    assert collect("--dir", trees["a"], "--dir", trees["b"], "--out", out).exit_code == 0
    paths = {r["path"] for r in read_records(out)}
    assert "deploy.sh" in paths and "copy-of-deploy.sh" not in paths
    manifest = read_manifest(out)
    assert manifest["drops"]["duplicate-near"] == 1
    assert manifest["inputs"][f"dir:{trees['b'].resolve()}"]["duplicates"] == {"duplicate-near": 1}


def test_rerunning_with_more_sources_merges_without_duplicates(
    trees: dict[str, Path], tmp_path: Path, collect
) -> None:
    merged, fresh = tmp_path / "merged", tmp_path / "fresh"
    assert collect("--dir", trees["a"], "--out", merged).exit_code == 0
    assert collect("--dir", trees["b"], "--out", merged).exit_code == 0
    again = collect("--dir", trees["a"], "--out", merged)  # again: nothing doubles
    assert again.exit_code == 0 and "wrote 7 files (no change: nothing new)" in again.stdout
    assert collect("--dir", trees["a"], "--dir", trees["b"], "--out", fresh).exit_code == 0
    records = read_records(merged)
    assert len({r["sha256"] for r in records}) == len(records)
    assert (merged / "corpus.jsonl").read_bytes() == (fresh / "corpus.jsonl").read_bytes()
    assert read_manifest(merged)["files"] == read_manifest(fresh)["files"] == 7


def test_a_run_whose_every_source_failed_fails_and_keeps_the_corpus(
    trees: dict[str, Path], tmp_path: Path, collect
) -> None:
    # Into an existing corpus it used to say "wrote 4 files" with exit 0, having collected nothing.
    out = tmp_path / "out"
    assert collect("--dir", trees["a"], "--out", out).exit_code == 0
    before = (out / "corpus.jsonl").read_bytes()
    bad = tmp_path / "bad.deb"
    bad.write_text("not an archive")
    result = collect("--deb-file", bad, "--out", out)
    assert result.exit_code == 1 and "every source failed" in result.stderr
    assert "was left as it was" in result.stderr and "wrote" not in result.stdout
    assert (out / "corpus.jsonl").read_bytes() == before


def test_dry_run_writes_nothing(trees: dict[str, Path], tmp_path: Path, collect) -> None:
    out = tmp_path / "out"
    result = collect("--dir", trees["a"], "--out", out, "--dry-run")
    assert result.exit_code == 0
    assert "would write 4 files" in result.stdout
    assert not out.exists()


def test_ctrl_c_leaves_the_previous_corpus_untouched(
    trees: dict[str, Path], tmp_path: Path, collect, monkeypatch
) -> None:
    out = tmp_path / "out"
    assert collect("--dir", trees["a"], "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "deduplicate", interrupted)
    result = collect("--dir", trees["b"], "--out", out)
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_interrupt_during_the_write_leaves_no_temp_files(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out"
    corpus_io.write_corpus(out, b'{"text": "old"}\n', {"files": 1})
    real_replace = os.replace

    def boom(src, dst):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        corpus_io.write_corpus(out, b'{"text": "new"}\n', {"files": 2})
    monkeypatch.setattr(os, "replace", real_replace)
    assert sorted(p.name for p in out.iterdir()) == ["corpus.jsonl", "manifest.json"]
    assert (out / "corpus.jsonl").read_bytes() == b'{"text": "old"}\n'


def test_permissive_only_applies_the_license_rule_to_directories(
    trees: dict[str, Path], tmp_path: Path, collect
) -> None:
    result = collect("--dir", trees["a"], "--permissive-only", "--out", tmp_path / "strict")
    assert result.exit_code == 1 and "no shell scripts were kept" in result.stderr
    assert (
        collect(
            "--dir", trees["a"], "--permissive-only", "--allow-license", "unknown", "--out", tmp_path / "ok"
        ).exit_code
        == 0
    )
    # Re-running an existing corpus under --permissive-only also drops what it no longer allows.
    mixed = tmp_path / "mixed"
    write_tree(
        trees["a"],
        {
            "LICENSE": "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n"
        },
    )
    assert collect("--dir", trees["a"], "--out", mixed).exit_code == 0
    assert collect("--dir", trees["b"], "--out", mixed, "--permissive-only").exit_code == 0
    assert {r["license"] for r in read_records(mixed)} == {"MIT"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no sources given"),
        (("--dir", "/no/such/dir/zz9"), "does not exist"),
        (("--git", "ext::sh -c id"), "--git ext::sh -c id: not a repository URL"),
        (("--tldr", "/no/such/tldr"), "--tldr /no/such/tldr: not a repository URL or a directory"),
        (("--deb-file", "/no/such/file.deb"), "no such file"),
        (("--dir", ".", "--min-bytes", "10", "--max-bytes", "5"), "min-bytes"),
        (("--git-list", "/no/such/list.txt"), "cannot read it"),
        (("--git-list", "EMPTY"), "lists nothing"),
        (("--deb-file", "DIR"), "is a directory; pass the path of a .deb"),
        (("--git", "file:///no/such/repo", "--cache-dir", "FILE"), "--cache-dir FILE is a file"),
    ],
)
def test_user_errors_are_one_line_with_a_fix(
    args: tuple[str, ...], message: str, tmp_path: Path, collect
) -> None:
    (tmp_path / "EMPTY").write_text("# only a comment\n")
    (tmp_path / "FILE").write_text("")
    (tmp_path / "DIR").mkdir()
    args = tuple(str(tmp_path / a) if a in ("EMPTY", "FILE", "DIR") else a for a in args)
    result = collect(*args, "--out", tmp_path / "out")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message.replace("FILE", str(tmp_path / "FILE")) in lines[0]


def test_an_out_that_is_a_file_is_the_only_complaint(trees: dict[str, Path], tmp_path: Path, collect) -> None:
    # A warning that the manifest inside it was unreadable came first.
    (tmp_path / "out").write_text("")
    result = collect("--dir", trees["a"], "--out", tmp_path / "out")
    assert (
        result.exit_code == 1
        and result.stderr == f"error: --out {tmp_path / 'out'} is a file; name a directory.\n"
    )


def test_git_failures_quote_gits_reason_not_its_advice(tmp_path: Path, collect) -> None:
    (tmp_path / "plain").mkdir()
    result = collect(
        "--tldr", tmp_path / "plain", "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache"
    )
    assert "does not appear to be a git repository" in result.stderr
    assert "and the repository exists" not in result.stderr


def test_a_corrupt_existing_corpus_is_named(trees: dict[str, Path], tmp_path: Path, collect) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "corpus.jsonl").write_text(
        '{"text": "ok", "source": "dir", "group": "g", "path": "p", "license": "MIT"}\nnot json\n'
    )
    result = collect("--dir", trees["a"], "--out", out)
    assert result.exit_code == 1
    assert "corpus.jsonl line 2" in result.stderr


def test_an_unreadable_manifest_is_rebuilt_with_a_warning(
    trees: dict[str, Path], tmp_path: Path, collect
) -> None:
    out = tmp_path / "out"
    assert collect("--dir", trees["a"], "--out", out).exit_code == 0
    (out / "manifest.json").write_text("{ half written")
    result = collect("--dir", trees["a"], "--out", out)
    assert result.exit_code == 0
    assert "manifest.json is unreadable (JSONDecodeError); it is rebuilt" in result.stderr
    assert read_manifest(out)["inputs"]  # rebuilt


def test_lists_accept_comments_and_blank_lines(tmp_path: Path) -> None:
    assert parse_list_text("# header\n\nfoo  # why\n  bar\n") == ["foo", "bar"]


def test_shipped_default_lists_are_well_formed() -> None:
    debs = default_list("debian")
    assert len(debs) >= 50 and len(set(debs)) == len(debs)
    assert all(PACKAGE_NAME.match(p) for p in debs)
    urls = default_list("git")
    assert len(urls) >= 20 and len(set(urls)) == len(urls)
    assert all(normalize_url(u).startswith("https://") for u in urls)


def test_manifest_is_valid_json_with_stable_key_order(
    trees: dict[str, Path], tmp_path: Path, collect
) -> None:
    out = tmp_path / "out"
    assert collect("--dir", trees["a"], "--out", out).exit_code == 0
    text = (out / "manifest.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_build_manifest_is_pure() -> None:
    rec = corpus_io.Record("#!/bin/sh\necho hi\n", "dir", "/g", "a.sh", "MIT")
    args = (
        [rec],
        {"dir:/g": {"source": "dir", "group": "/g", "scanned": 3, "drops": {"not-shell": 2}}},
        {},
        {},
        {"x": "1"},
        "abc",
    )
    manifest = corpus_io.build_manifest(*args)
    assert manifest == corpus_io.build_manifest(*args)
    assert manifest["drops"] == {"not-shell": 2}
    assert manifest["inputs"]["dir:/g"]["kept"] == 1


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bashcoder.trainer.collect.pipeline import default_cache_dir

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    assert default_cache_dir() == tmp_path / ".cache" / "bashcoder"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "bashcoder"
