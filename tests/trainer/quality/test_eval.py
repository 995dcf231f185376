"""`bashcoder-eval`: the measurements and the command, on a real micro model."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.device import plan_for
from bashcoder.engine.generate import Generator
from bashcoder.engine.syntax import bash_check
from bashcoder.trainer.quality.bpb import model_bpb, model_nll, scored_windows
from bashcoder.trainer.quality.compression import baselines
from bashcoder.trainer.quality.nextline import line_starts, run_probe, sample_probes, similarity
from bashcoder.trainer.quality.report import table
from bashcoder.trainer.quality.run import EvalConfig, run_eval
from bashcoder.trainer.quality.texts import folder_texts, validation_texts

FIXTURES = Path(__file__).parents[2] / "fixtures" / "scripts"
BIN = Path(sys.executable).parent / "bashcoder-eval"


def test_line_starts_skip_blank_lines_and_the_first_line() -> None:
    text = "#!/bin/bash\n\necho a\n  \necho b"
    assert [text[i : i + 6] for i in line_starts(text)] == ["echo a", "echo b"]


def test_probes_are_seeded_and_cover_the_line() -> None:
    texts = [p.read_text() for p in sorted(FIXTURES.glob("*.sh"))]
    a = sample_probes(texts, 20, seed=1)
    assert a == sample_probes(texts, 20, seed=1)
    assert a != sample_probes(texts, 20, seed=2)
    for p in a:
        assert p.prefix + p.target + p.rest == texts[p.doc]
        assert "\n" not in p.target and p.target.strip()


def test_probes_skip_files_that_do_not_parse() -> None:
    probes = sample_probes(["ok\necho 1\n", "bad\necho 2\n"], 10, parses=[True, False])
    assert {p.doc for p in probes} == {0}


def test_similarity() -> None:
    assert similarity("echo hi", "echo hi  ") == 1.0
    assert similarity("abcd", "abce") == pytest.approx(0.75)


def test_bits_per_byte_matches_a_hand_computation(gen: Generator) -> None:
    text = 'for f in *.sh; do\n  bash -n "$f"\ndone\n'
    ids = torch.tensor([[gen.tokenizer.eot_id, *gen.tokenizer.encode(text)]])
    with torch.no_grad():
        logits = gen.model(ids[:, :-1])
    nats = F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()
    expected = nats / math.log(2) / len(text.encode("utf-8"))
    assert model_bpb(gen, [text]) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("n", "ctx", "stride"), [(1, 8, 4), (8, 8, 4), (9, 8, 4), (30, 8, 3), (30, 8, 8), (17, 8, 1)]
)
def test_sliding_windows_count_every_target_once(n: int, ctx: int, stride: int) -> None:
    windows = scored_windows(n, ctx, stride)
    counted = [t for _, end, first in windows for t in range(first, end)]
    assert counted == list(range(n))
    assert windows[0][0] == 0
    for begin, end, first in windows:
        assert end - begin <= ctx
        if begin > 0:
            assert first - begin >= ctx - stride  # every later target sees that much context


def test_sliding_window_nll_matches_per_token_contexts(gen: Generator) -> None:
    # A document over twice the micro model's context, checked target by target
    # against a forward pass over exactly the context the strided scheme gives it.
    text = "\n".join(p.read_text() for p in sorted(FIXTURES.glob("*.sh")))[:6000]
    ids = torch.tensor([gen.tokenizer.eot_id, *gen.tokenizer.encode(text)])
    ctx, stride = gen.cfg.context_length, gen.cfg.context_length // 4
    assert len(ids) > 2 * ctx

    def nats(begin: int, t: int) -> float:  # -log p(ids[t + 1] | ids[begin..t])
        with torch.no_grad():
            logits = gen.model(ids[None, begin : t + 1])
        return F.cross_entropy(logits[0, -1:], ids[t + 1 : t + 2], reduction="sum").item()

    targets = range(len(ids) - 1)
    sliding = sum(nats(0 if t < ctx else ((t - ctx) // stride + 1) * stride, t) for t in targets)
    disjoint = sum(nats(t // ctx * ctx, t) for t in targets)
    got, n_bytes = model_nll(gen, [text], stride=stride)
    assert n_bytes == len(text.encode("utf-8"))
    assert got == pytest.approx(sliding, rel=1e-4)
    # stride = context: disjoint windows that each start fresh.
    assert model_nll(gen, [text], stride=ctx)[0] == pytest.approx(disjoint, rel=1e-4)
    assert abs(sliding - disjoint) > 1.0  # the two schemes differ on this text, so both checks bite


def test_compression_baselines_are_bits_per_byte() -> None:
    data = ("echo hello world\n" * 500).encode()
    got = baselines(data)
    assert 0 < got["xz -9e"] < 1 and 0 < got["zstd -19"] < 1  # type: ignore[operator]


def test_memorised_lines_are_exact_matches(gen: Generator) -> None:
    # The micro model was trained on these scripts: greedy reproduces most lines.
    texts = [p.read_text() for p in sorted(FIXTURES.glob("*.sh"))]
    results = [run_probe(gen, p, "prefix") for p in sample_probes(texts, 30, seed=0)]
    assert sum(r.exact for r in results) >= 3
    assert all(0.0 <= r.similarity <= 1.0 for r in results)


def test_validation_split_holds_only_held_out_groups(tmp_path: Path) -> None:
    texts = [p.read_text() for p in sorted(FIXTURES.glob("*.sh"))]
    records = [
        {"text": t, "group": f"g{i}", "source": "dir", "path": f"{i}.sh", "license": "MIT"}
        for i, t in enumerate(texts)
    ]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    val = validation_texts(tmp_path, 0.2)
    assert 1 <= len(val) < len(texts)
    assert {v.name.split("#")[0] for v in val} < {r["group"] for r in records}


def test_eval_command_end_to_end(micro_model_dir: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            str(BIN),
            "--model",
            str(micro_model_dir),
            "--texts",
            str(FIXTURES),
            "--samples",
            "12",
            "--shellcheck-samples",
            "4",
            "--json",
            str(tmp_path / "r.json"),
            "--plot",
            str(tmp_path / "r"),  # no suffix: .png is added, and the line says where it went
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )
    assert out.returncode == 0, out.stderr
    for word in ("bits per byte", "xz -9e", "zstd -19", "prefix only", "with suffix (reranked)"):
        assert word in out.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["modes"]["prefix"]["probes"] == 12 and report["bpb"] > 0
    assert report["fim_reranked"] is True  # FIM probes ask as the editor does by default
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    assert f"plot: {tmp_path / 'r.png'}" in out.stdout


def test_eval_bad_input_is_one_line(tmp_path: Path, micro_model_dir: Path) -> None:
    out = subprocess.run(
        [str(BIN), "--model", str(micro_model_dir), "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and out.stderr.startswith("error: no corpus") and out.stderr.count("\n") == 1


def test_an_unwritable_json_or_plot_path_is_one_line_before_the_run(
    tmp_path: Path, micro_model_dir: Path
) -> None:
    (tmp_path / "dir").mkdir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for flag, path, says in [
        ("--json", tmp_path / "dir", "is a directory"),
        ("--plot", blocker / "r.png", "cannot create its folder"),
    ]:
        out = subprocess.run(
            [str(BIN), "--model", str(micro_model_dir), "--texts", str(FIXTURES), flag, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # Refused before the bits per byte are measured: nothing is printed but the line.
        assert out.returncode == 1 and out.stdout == "", out.stdout
        assert out.stderr.startswith(f"error: {flag}") and says in out.stderr and out.stderr.count("\n") == 1


def test_eval_stride_past_the_context_is_one_line(micro_model_dir: Path) -> None:
    out = subprocess.run(
        [str(BIN), "--model", str(micro_model_dir), "--texts", str(FIXTURES), "--bpb-stride", "100000"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and out.stderr.count("\n") == 1
    assert "--bpb-stride 100000" in out.stderr and "context length" in out.stderr


def test_eval_without_rerank_scores_the_greedy_fim_line(micro_model, bpe_tokenizer) -> None:  # noqa: ANN001
    loaded = LoadedModel(micro_model, bpe_tokenizer, micro_model.cfg, None, {})  # type: ignore[arg-type]
    # torch: warm and cold prefills round alike, so the eval's run and the one here match exactly
    gen = Generator(loaded, dataclasses.replace(plan_for(torch.device("cpu")), runtime="torch"))
    cfg = EvalConfig(texts=str(FIXTURES), samples=6, shellcheck_samples=0, rerank=False)
    report = run_eval(cfg, gen)
    assert not report.fim_reranked
    assert "with suffix (FIM)" in table(report) and "reranked" not in table(report)
    texts = [t.text for t in folder_texts(FIXTURES)]
    probes = sample_probes(texts, 6, 0, [bash_check(t).ok for t in texts])
    plain = [run_probe(gen, p, "fim", cfg.max_tokens) for p in probes]
    assert report.modes["fim"].exact_match == sum(r.exact for r in plain) / len(plain)


def test_files_that_are_not_utf8_are_counted_in_a_warning(tmp_path: Path) -> None:
    # They were skipped silently: the figures covered fewer files than the folder held.
    (tmp_path / "a.sh").write_text("#!/bin/bash\necho ok\n")
    (tmp_path / "b.sh").write_bytes(b"#!/bin/bash\necho \xff\xfe\n")
    said: list[str] = []
    texts = folder_texts(tmp_path, said.append)
    assert [t.name for t in texts] == ["a.sh"]
    assert said == [
        f"warning: skipped 1 file(s) under {tmp_path} that are not readable UTF-8 text (e.g. b.sh); "
        "the figures cover the other 1."
    ]
