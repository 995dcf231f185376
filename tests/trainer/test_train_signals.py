"""Kills and interrupts of a real `python -m bashcoder.cli.train` process."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from trainer_helpers import micro_config

from bashcoder.trainer.config import TrainConfig
from bashcoder.trainer.state import load_train_state
from bashcoder.trainer.train import train

pytestmark = pytest.mark.usefixtures("one_thread")
ROOT = Path(__file__).parents[2]


def cli_args(cfg: TrainConfig) -> list[str]:
    args = [sys.executable, "-m", "bashcoder.cli.train"]
    for name, value in cfg.to_dict().items():
        if value is None or value is False or name == "compile":
            continue
        args += [f"--{name.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return args + ["--no-compile"]


def start(cfg: TrainConfig) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # as one_thread, so both sides compute alike
    return subprocess.Popen(
        cli_args(cfg), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def logged_steps(out: Path) -> list[int]:
    try:
        lines = (out / "metrics.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return []
    steps = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # being written right now
            continue
        if record["kind"] == "train":
            steps.append(record["step"])
    return steps


def wait_for_step(proc: subprocess.Popen[str], out: Path, step: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not logged_steps(out) or logged_steps(out)[-1] < step:
        if proc.poll() is not None:
            pytest.fail(f"trainer exited early: {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("trainer made no progress")
        time.sleep(0.02)


def test_a_sigkilled_run_resumes_losing_at_most_one_checkpoint_interval(
    corpus_dir: Path, tmp_path: Path
) -> None:
    interval = 5
    cfg = micro_config(
        corpus_dir, tmp_path / "killed", max_steps=2000, save_interval=interval, eval_interval=1000
    )
    proc = start(cfg)
    wait_for_step(proc, cfg.out_dir, 3 * interval + 2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done = logged_steps(cfg.out_dir)[-1]
    saved = load_train_state(cfg.out_dir).step
    assert saved % interval == 0 and 0 <= done - saved <= interval, (done, saved)
    # Resume, then compare every logged loss with a run that was never killed.
    resumed = train(dataclasses.replace(cfg, resume=True), stop_after=3)
    assert resumed.step == saved + 3
    reference = train(dataclasses.replace(cfg, out=tmp_path / "reference"), stop_after=saved + 3)
    got = [
        (r["step"], r["loss"])
        for r in map(json.loads, (cfg.out_dir / "metrics.jsonl").read_text().splitlines())
    ]
    want = [
        (r["step"], r["loss"])
        for r in map(json.loads, (reference.out / "metrics.jsonl").read_text().splitlines())
    ]
    assert [s for s, _ in got] == list(range(1, saved + 4))
    assert [s for s, _ in got] == [s for s, _ in want]
    assert [loss for _, loss in got] == pytest.approx([loss for _, loss in want], rel=1e-5, abs=1e-6)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_save_before_exiting(
    corpus_dir: Path, tmp_path: Path, sig: int, code: int
) -> None:
    cfg = micro_config(corpus_dir, tmp_path / "run", max_steps=2000, save_interval=1000, eval_interval=1000)
    proc = start(cfg)
    wait_for_step(proc, cfg.out_dir, 4)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    saved = load_train_state(cfg.out_dir).step
    assert saved == logged_steps(cfg.out_dir)[-1] >= 4
    assert f"stopped ({signal.Signals(sig).name}) at step {saved}" in stdout and "--resume" in stdout
    assert (cfg.out_dir / "config.json").is_file()  # a loadable model even before the first evaluation
