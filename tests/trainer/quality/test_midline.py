"""Mid-line probes of `bashcoder-eval`: a cursor after a word inside a command line (`git |`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bashcoder.engine.generate import Generator
from bashcoder.trainer.quality.midline import (
    MidlineProbe,
    cut_points,
    run_midline_probe,
    sample_midline_probes,
    score_completion,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "scripts"
BIN = Path(sys.executable).parent / "bashcoder-eval"


def test_a_cursor_goes_at_the_start_of_every_word_but_the_first_of_a_command() -> None:
    line = '  tar -xzf "$f" -C out  # unpack'
    assert [line[c:].split()[0] for c in cut_points(line)] == ["-xzf", '"$f"', "-C", "out"]
    assert cut_points("# a comment line") == []
    assert cut_points("ls") == []


def test_probes_are_seeded_and_split_lines_where_a_user_pauses() -> None:
    texts = [p.read_text() for p in sorted(FIXTURES.glob("*.sh"))]
    a = sample_midline_probes(texts, 25, seed=3)
    assert a == sample_midline_probes(texts, 25, seed=3) and len(a) == 25
    for p in a:
        assert p.prefix + p.target + p.rest == texts[p.doc]
        assert p.prefix.endswith((" ", "\t")) and p.next_word and "\n" not in p.target


def test_the_next_word_and_the_rest_of_the_line_are_scored_as_a_user_would() -> None:
    probe = MidlineProbe(0, "git ", "commit -m 'fix' --amend", "\n")
    exact = score_completion(probe, "prefix", "commit -m 'fix' --amend")
    assert exact.word_exact and exact.line_exact and exact.similarity == 1.0
    word_only = score_completion(probe, "prefix", "commit -a")
    assert word_only.word_exact and not word_only.line_exact and 0 < word_only.similarity < 1
    assert not score_completion(probe, "prefix", "commits").word_exact  # a longer word is not the word
    assert not score_completion(probe, "prefix", "").word_exact


def test_a_probe_is_answered_through_the_surfaces_prompt(gen: Generator) -> None:
    texts = [p.read_text() for p in sorted(FIXTURES.glob("*.sh"))]
    for probe in sample_midline_probes(texts, 4, seed=0):
        for mode in ("prefix", "fim"):
            r = run_midline_probe(gen, probe, mode)
            assert "\n" not in r.completion and r == score_completion(probe, mode, r.completion)


@pytest.mark.slow
def test_the_eval_report_has_mid_line_and_per_source_tables(micro_model_dir: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [str(BIN), "--model", str(micro_model_dir), "--texts", str(FIXTURES), "--samples", "6",
         "--shellcheck-samples", "0", "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "mid-line (cursor after a word)" in out.stdout and "by source" in out.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["midline"]["prefix"]["probes"] == 6
    assert set(report["by_source"]) == {"folder"}
    assert report["by_source"]["folder"]["bpb"] == pytest.approx(report["bpb"])
