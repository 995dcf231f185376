"""scripts/train_on_gpu.py end to end, on the CPU with the micro model: what a GPU session gets back.

The script is what a GPU lent for minutes runs, once; a fault found there costs the lease.
So its whole path runs here: a carried prepared directory (train.bin packed with xz),
two runs sharing the device, SIGTERM at the end of the constant phase, decayed copies,
the best model back as fp16 safetensors with a summary.
"""

from __future__ import annotations

import json
import lzma
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bashcoder.engine.checkpoint import load_model_dir
from bashcoder.trainer.prepare import prepare

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "train_on_gpu.py"


def carried(corpus_dir: Path, dest: Path) -> Path:
    """A prepared directory as it travels: train.bin xz-packed, the rest as it is."""
    prepared = prepare(corpus_dir, "bpe", vocab_size=300)
    dest.mkdir(parents=True)
    for name in ("meta.json", "tokenizer.json", "val.bin"):
        shutil.copy(prepared.directory / name, dest / name)
    with lzma.open(dest / "train.bin.xz", "wb") as fh:
        fh.write((prepared.directory / "train.bin").read_bytes())
    return dest


def test_a_timed_sweep_brings_back_the_best_run_as_fp16(corpus_dir: Path, tmp_path: Path) -> None:
    data = carried(corpus_dir, tmp_path / "gpu" / "natural")
    out = tmp_path / "out"
    cmd = [
        sys.executable, str(SCRIPT), "--seconds", "60", "--out", str(out), "--work", str(tmp_path / "work"),
        "--model-size", "micro", "--batch-size", "2", "--device", "cpu", "--eval-interval", "10",
        "--run", f"a|{data}|--lr 3e-3 --no-compile --vocab-size 300 --log-interval 5",
        "--run", f"b|{data}|--lr 1e-2 --no-compile --vocab-size 300 --log-interval 5",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    best = summary["shipped_candidate"]
    for name in ("a", "b"):
        run = summary["runs"][name]
        assert run["constant"]["tokens_per_s"] > 0
        assert any(n.startswith("decayed") for n in run["notes"]), run["notes"]
        # The copy starts from the saved state (how far it gets depends on this machine's load).
        assert run["decay"]["step"] >= run["constant"]["step"]
    assert best["val_bpb"] == min(
        r[p]["best_val"]["bpb"]
        for r in summary["runs"].values()
        for p in ("constant", "decay")
        if r[p]["best_val"]
    )
    model = load_model_dir(out / "model")
    weights = [p for p in (out / "model").iterdir() if p.suffix == ".safetensors"]
    assert weights and all(p.stat().st_size <= 15 * 1024 * 1024 for p in weights)
    assert json.loads((out / "model" / "config.json").read_text())["dtype"] == "float16"
    assert model.config.vocab_size == 300
    assert (out / "runs.tar.gz").stat().st_size > 0


@pytest.mark.parametrize(
    ("spec", "message"), [("bad", "write NAME|DATA|ARGS"), ("a|/nope|", "not a prepared")]
)
def test_a_bad_run_spec_is_one_line(tmp_path: Path, spec: str, message: str) -> None:
    cmd = [sys.executable, str(SCRIPT), "--seconds", "1", "--out", str(tmp_path), "--run", spec]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
