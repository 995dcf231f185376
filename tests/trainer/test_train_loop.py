from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from trainer_helpers import micro_config

from bashcoder.engine.checkpoint import load_model_dir
from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.state import JSON_FILE, LATEST, STATE_DIR, load_train_state
from bashcoder.trainer.train import train

pytestmark = pytest.mark.usefixtures("one_thread")


def records(out: Path, kind: str = "train") -> list[dict[str, float]]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_micro_model_overfits_a_small_corpus(corpus_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    cfg = micro_config(
        corpus_dir,
        out,
        max_steps=200,
        lr=1e-2,
        warmup_steps=10,
        fim_rate=0.0,
        eval_interval=100,
        log_interval=10,
    )
    result = train(cfg)
    losses = [r["loss"] for r in records(out)]
    assert losses[0] > 4.0 and losses[-1] < 1.5, losses
    val = records(out, "val")
    assert [r["step"] for r in val] == [100, 200] and val[1]["bpb"] < val[0]["bpb"] < 3.0
    assert result.best_val_bpb == pytest.approx(val[1]["bpb"]) and result.interrupted is None
    # The output directory is an engine model directory plus the run's files.
    loaded = load_model_dir(out)
    assert loaded.meta["training"]["step"] == 200
    assert {"README.md", "metrics.jsonl", "training.png", STATE_DIR} <= {p.name for p in out.iterdir()}
    assert (out / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    card = (out / "README.md").read_text()
    assert f"{val[1]['bpb']:.4g}" in card and "200 of 200" in card and "finished" in card


def test_resume_continues_exactly_like_an_uninterrupted_run(corpus_dir: Path, tmp_path: Path) -> None:
    whole = train(micro_config(corpus_dir, tmp_path / "whole", max_steps=30, save_interval=7))
    cfg = micro_config(corpus_dir, tmp_path / "split", max_steps=30, save_interval=7)
    first = train(cfg, stop_after=13)
    assert first.interrupted == "stop_after" and first.step == 13
    assert load_train_state(cfg.out_dir).step == 13
    second = train(dataclasses.replace(cfg, resume=True))
    assert second.step == 30 and second.interrupted is None
    a, b = records(tmp_path / "whole"), records(tmp_path / "split")
    assert [r["step"] for r in b] == list(range(1, 31))
    assert [r["loss"] for r in b] == pytest.approx([r["loss"] for r in a], rel=1e-5, abs=1e-6)
    for (name, p), q in zip(
        whole.model.state_dict().items(), second.model.state_dict().values(), strict=True
    ):
        assert torch.allclose(p, q, atol=1e-6), name
    assert second.best_val_bpb == pytest.approx(whole.best_val_bpb, rel=1e-5)


def test_training_state_is_safetensors_and_json_only(corpus_dir: Path, tmp_path: Path) -> None:
    cfg = micro_config(corpus_dir, tmp_path / "run", max_steps=12, save_interval=5)
    train(cfg)
    root = cfg.out_dir / STATE_DIR
    current = root / (root / LATEST).read_text().strip()
    assert sorted(p.name for p in root.iterdir()) == [LATEST, "step-00000012"]
    assert {p.name for p in current.iterdir()} == {JSON_FILE, "model.safetensors", "optimizer.safetensors"}
    payload = json.loads((current / JSON_FILE).read_text())
    assert payload["step"] == 12 and payload["config"]["model_size"] == "micro"
    assert set(payload["ranks"][0]) == {"sampler", "rng"}


def test_runs_refuse_to_overwrite_or_to_resume_mismatched_options(corpus_dir: Path, tmp_path: Path) -> None:
    cfg = micro_config(corpus_dir, tmp_path / "run", max_steps=12)
    with pytest.raises(BashcoderError, match="nothing to resume"):
        train(dataclasses.replace(cfg, resume=True))
    train(cfg, stop_after=2)
    with pytest.raises(BashcoderError, match="already holds a training run; pass --resume"):
        train(cfg)
    with pytest.raises(BashcoderError, match=r"different options \(--lr default -> 0.01, --seed 0 -> 1\)"):
        train(dataclasses.replace(cfg, resume=True, lr=0.01, seed=1))
    # Checked before the data is prepared: another size was reported as a vocabulary problem after it.
    prepared = sorted((corpus_dir / "prepared").iterdir())
    with pytest.raises(
        BashcoderError, match=r"different options \(--model-size micro -> tiny, --vocab-size 300 -> 280\)"
    ):
        train(dataclasses.replace(cfg, resume=True, model_size="tiny", vocab_size=280))
    assert sorted((corpus_dir / "prepared").iterdir()) == prepared
    # Changing only where and how often we look is fine.
    assert train(dataclasses.replace(cfg, resume=True, log_interval=3, eval_interval=5)).step == 12
    # A finished run trains longer when --max-steps is raised, from where it stopped.
    longer = train(dataclasses.replace(cfg, resume=True, max_steps=16))
    assert longer.step == 16
    records = [json.loads(line) for line in (cfg.out_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in records if r["kind"] == "train"]
    assert max(steps) == 16 and load_model_dir(cfg.out_dir).meta["training"]["step"] == 16


def test_a_damaged_latest_pointer_resumes_from_the_checkpoint_that_is_there(
    corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --resume said "no readable training state; drop --resume", and without it "pass --resume".
    cfg = micro_config(corpus_dir, tmp_path / "run", max_steps=12)
    train(cfg, stop_after=3)
    root = cfg.out_dir / STATE_DIR
    (root / LATEST).write_text("step-99999999\n")
    assert load_train_state(cfg.out_dir).step == 3
    assert "LATEST names step-99999999, which is missing or unreadable; resuming from step-00000003" in (
        capsys.readouterr().err
    )
    assert train(dataclasses.replace(cfg, resume=True)).step == 12
    (root / LATEST).unlink()  # no pointer at all: still a run, resumable, and not started over
    with pytest.raises(BashcoderError, match="already holds a training run"):
        train(dataclasses.replace(cfg, max_steps=14))
    assert train(dataclasses.replace(cfg, resume=True, max_steps=14)).step == 14
    (root / LATEST).write_text("step-99999999\n")
    for checkpoint in root.glob("step-*"):
        (checkpoint / JSON_FILE).write_text("{")
    with pytest.raises(BashcoderError, match="no readable training state"):
        load_train_state(cfg.out_dir)
