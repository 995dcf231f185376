"""Train the shipped tiny on one CUDA GPU inside a fixed wall-clock budget, as one script.

Usage (on the GPU machine, from the repository root, with carried prepared data):

    python3 scripts/train_on_gpu.py --seconds 400 --out $OUT \
        --run "lr2e-3|gpu/natural|--lr 2e-3" --run "lr4e-3|gpu/natural|--lr 4e-3"

Each `--run NAME|DATA|ARGS` is one `bashcoder-train` run; all runs share the
GPU at once (a 13.8M-parameter model leaves most of an H200 idle, so a small
sweep costs little more than one run). The budget is spent as WSD intends
(Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed
Training Durations"): every run trains at constant LR (`--decay-steps 0`)
until 72% of `--seconds`, is stopped with SIGTERM (which saves its state),
and a copy decays (`--init-from`) over as many steps as its measured rate
fits into the time left. The run with the lowest validation bits per byte is
written to OUT/model as fp16 safetensors shards of at most 15 MiB; every
run's metrics, log, card and plot go to OUT/runs.tar.gz and the figures
(tokens/s, MFU, epochs, bits per byte per source) to OUT/summary.json.

DATA is a prepared directory (meta.json, tokenizer.json, train.bin or
train.bin.xz, val.bin): what `bashcoder-train` writes under
data/prepared/<key>/, carried without the corpus. Only the standard library,
torch and the trainer's own dependencies are needed.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# H200 (and H100 SXM) dense bf16 peak from NVIDIA's data sheet, the usual MFU denominator.
PEAK_FLOPS = {"H200": 989.4e12, "H100": 989.4e12, "A100": 312e12}
CONSTANT_SHARE = 0.72
SHARD_BYTES = 15 * 1024 * 1024
COMMON = ["--optimizer", "muon", "--schedule", "wsd", "--log-interval", "25", "--save-interval", "1000000"]


@dataclass
class Run:
    name: str
    data: Path
    args: list[str]
    work: Path
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    first_record_s: float | None = None
    """Seconds from launch to the first train record: import, data, compile (a decay pays it again)."""
    notes: list[str] = field(default_factory=list)

    @property
    def const_dir(self) -> Path:
        return self.work / self.name

    @property
    def decay_dir(self) -> Path:
        return self.work / f"{self.name}-decay"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def unpack(data: Path) -> None:
    """train.bin.xz -> train.bin (xz keeps the carried tree under the 64 MiB a call may send)."""
    for packed in data.glob("*.bin.xz"):
        plain = packed.with_suffix("")
        if not plain.exists():
            partial = plain.with_name(plain.name + ".partial")  # a killed unpack never passes for data
            with lzma.open(packed) as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
            partial.replace(plain)


def launch(run: Run, out: Path, common: list[str], extra: list[str], tag: str) -> None:
    cmd = [sys.executable, "-m", "bashcoder.cli.train", "--data", str(run.data), "--out", str(out)]
    cmd += COMMON + common + run.args + extra
    logf = (run.work / f"{run.name}.{tag}.log").open("ab")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    run.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    run.started = time.perf_counter()
    log(f"{run.name} {tag}: {shlex.join(cmd[3:])}")


def stop(runs: list[Run], grace: float = 90.0) -> None:
    """SIGTERM every live run (the trainer saves at the next step boundary), then wait."""
    for r in runs:
        if r.proc and r.proc.poll() is None:
            r.proc.send_signal(signal.SIGTERM)
    deadline = time.perf_counter() + grace
    for r in runs:
        if r.proc is None:
            continue
        try:
            r.proc.wait(timeout=max(deadline - time.perf_counter(), 1.0))
        except subprocess.TimeoutExpired:
            r.proc.kill()
            r.notes.append("killed after the grace period")


def wait_until(runs: list[Run], until: float, run_dir: str = "const_dir") -> None:
    while time.perf_counter() < until and any(r.proc and r.proc.poll() is None for r in runs):
        time.sleep(1.0)
        for r in runs:
            if r.first_record_s is None and any(
                x.get("kind") == "train" for x in records(getattr(r, run_dir))
            ):
                r.first_record_s = time.perf_counter() - r.started


def records(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def saved_step(run_dir: Path) -> int | None:
    latest = run_dir / "train_state" / "LATEST"
    if not latest.is_file():
        return None
    return int(latest.read_text().strip().removeprefix("step-"))


def steady_rate(run_dir: Path) -> float | None:
    """Median tokens/s of the train records, the first (compile and warm-up) left out when others exist."""
    rates = [r["tokens_per_s"] for r in records(run_dir) if r.get("kind") == "train"]
    rates = sorted(rates[1:] if len(rates) > 1 else rates)
    return rates[len(rates) // 2] if rates else None


def best_val(run_dir: Path) -> dict | None:
    vals = [r for r in records(run_dir) if r.get("kind") == "val"]
    return min(vals, key=lambda r: r["bpb"]) if vals else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, required=True, help="wall-clock budget for training")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bashcoder-gpu"))
    ap.add_argument("--run", action="append", required=True, help="NAME|DATA|ARGS")
    ap.add_argument("--eval-interval", type=int, default=400)
    ap.add_argument("--model-size", default="tiny")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--device", default="cuda")
    opts = ap.parse_args()

    runs: list[Run] = []
    for spec in opts.run:
        parts = spec.split("|", 2)
        if len(parts) != 3 or not parts[0]:
            ap.error(f"--run {spec!r}: write NAME|DATA|ARGS, e.g. 'lr8e-3|gpu/natural|--lr 8e-3'.")
        name, data, args = parts
        if not (Path(data) / "meta.json").is_file():
            ap.error(
                f"--run {name}: {data} is not a prepared directory (no meta.json); copy data/prepared/<key>/."
            )
        runs.append(Run(name, Path(data), shlex.split(args), opts.work))

    import torch

    t0 = time.perf_counter()
    opts.work.mkdir(parents=True, exist_ok=True)
    opts.out.mkdir(parents=True, exist_ok=True)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    log(f"{gpu}; torch {torch.__version__}; budget {opts.seconds:.0f} s")
    for data in {r.data for r in runs}:
        unpack(data)
    log(f"data unpacked in {time.perf_counter() - t0:.0f} s")

    # Phase 1: constant LR.
    common = ["--model-size", opts.model_size, "--batch-size", str(opts.batch_size), "--device", opts.device]
    for r in runs:
        launch(r, r.const_dir, common, ["--max-steps", "10000000", "--decay-steps", "0",
                                "--eval-interval", str(opts.eval_interval)], "constant")  # fmt: skip
    t_const_end = t0 + CONSTANT_SHARE * opts.seconds
    wait_until(runs, t_const_end)
    for r in runs:
        if r.proc and r.proc.poll() not in (None, 0):
            r.notes.append(f"constant phase exited {r.proc.returncode}")
    stop(runs)
    log("constant phase stopped")

    # Phase 2: decay a copy of each over what its measured rate fits in the time left.
    decaying = []
    for r in runs:
        step, rate = saved_step(r.const_dir), steady_rate(r.const_dir)
        if step is None or rate is None:
            r.notes.append("no saved state to decay")
            continue
        tokens_per_step = opts.batch_size * context_of(opts.model_size)
        # The first record also holds --log-interval steps of training: a safe overestimate.
        overhead = min(r.first_record_s or 60.0, 90.0)
        left = t0 + opts.seconds - time.perf_counter() - overhead - 10.0
        decay = max(
            int(rate / tokens_per_step * left * 0.8), 1
        )  # evaluations and the final save take the rest
        evals = max(decay // 3, 1)
        r.args = [a for a in r.args if a != "--resume"]  # a decay starts a new --out from the saved state
        launch(r, r.decay_dir, common, ["--init-from", str(r.const_dir), "--max-steps", str(step + decay),
                                "--decay-steps", str(decay), "--eval-interval", str(evals)], "decay")  # fmt: skip
        r.notes.append(f"decayed {decay} steps from step {step}")
        decaying.append(r)
    wait_until(decaying, t0 + opts.seconds, "decay_dir")
    stop(decaying, grace=60.0)
    log("decay phase done")
    return report(runs, opts.out, gpu, opts.model_size)


def context_of(size: str) -> int:
    from bashcoder.engine.config import preset

    return preset(size).context_length


def report(runs: list[Run], out: Path, gpu: str, size: str) -> int:
    import torch

    from bashcoder.engine.checkpoint import CARD_FILE, load_model_dir, save_model_dir
    from bashcoder.engine.config import preset
    from bashcoder.trainer.metrics import flops_per_token
    from bashcoder.trainer.plot import PLOT_FILE

    peak = next((v for k, v in PEAK_FLOPS.items() if k in gpu), None)
    vocab = json.loads((runs[0].data / "meta.json").read_text()).get("vocab_size", 8192)
    fpt = flops_per_token(preset(size, vocab), context_of(size))
    summary: dict[str, object] = {"gpu": gpu, "peak_flops": peak, "runs": {}}
    best: tuple[float, Path] | None = None
    for r in runs:
        row: dict[str, object] = {"args": r.args, "data": str(r.data), "notes": r.notes}
        for phase, d in (("constant", r.const_dir), ("decay", r.decay_dir)):
            rate = steady_rate(d)
            v = best_val(d)
            train_tokens = json.loads((r.data / "meta.json").read_text())["train"]["tokens"]
            last = ([x for x in records(d) if x.get("kind") == "train"] or [{}])[-1]
            row[phase] = {
                "tokens_per_s": rate,
                "mfu": rate * fpt / peak if rate and peak else None,
                "step": last.get("step"),
                "tokens": last.get("tokens"),
                "epochs": (last.get("tokens") or 0) / train_tokens,
                "best_val": v,
            }
            if v and (d / "config.json").is_file() and (best is None or v["bpb"] < best[0]):
                best = (v["bpb"], d)
        summary["runs"][r.name] = row  # type: ignore[index]
    if best is not None:
        loaded = load_model_dir(best[1])
        meta = {
            k: v for k, v in loaded.meta.items() if k not in ("dtype", "format_version")
        }  # the file's own
        card = (best[1] / CARD_FILE).read_text() if (best[1] / CARD_FILE).is_file() else ""
        save_model_dir(out / "model", loaded.model, loaded.tokenizer, card=card, meta=meta,
                       dtype=torch.float16, shard_bytes=SHARD_BYTES)  # fmt: skip
        summary["shipped_candidate"] = {"dir": str(best[1]), "val_bpb": best[0]}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    with tarfile.open(out / "runs.tar.gz", "w:gz") as tar:
        for r in runs:
            for d in (r.const_dir, r.decay_dir):
                for name in ("metrics.jsonl", CARD_FILE, "config.json", PLOT_FILE):
                    if (d / name).is_file():
                        tar.add(d / name, arcname=f"{d.name}/{name}")
            for logf in r.work.glob(f"{r.name}.*.log"):
                tar.add(logf, arcname=logf.name)
    for logf in sorted(runs[0].work.glob("*.log")):  # what went wrong, when something did
        print(f"--- {logf.name}", *logf.read_text(errors="replace").splitlines()[-4:], sep="\n")
    print(json.dumps(summary, indent=1))
    return 0 if best is not None else 1


if __name__ == "__main__":
    sys.exit(main())
