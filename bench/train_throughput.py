"""Training throughput and model FLOP utilisation (MFU) of micro, tiny and small.

    .venv/bin/python bench/train_throughput.py [--sizes tiny] [--compile on|off|auto] [--device cpu]

Times the trainer's own optimizer step (bashcoder.trainer.step.train_step:
forward, loss, backward, clipping, fused AdamW) on random tokens, under the
device plan's training dtype. MFU divides the model's training FLOPs (6 per
parameter per token plus attention, as in PaLM) by the peak of a large matmul
in the same dtype measured in this run (bf16 on CUDA and AMX CPUs). On a CPU
shared with other work the peak moves with the load, so a second figure
(MFU*) compares each step with a peak measured just before it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass

import torch

from bashcoder.engine.config import PRESETS, preset
from bashcoder.engine.device import DevicePlan, cpu_model, plan, synchronize
from bashcoder.engine.model import build_model
from bashcoder.trainer.metrics import flops_per_token
from bashcoder.trainer.optim import build_optimizer
from bashcoder.trainer.step import LossModel, compile_by_default, train_step

# Sequences per step, at full context: on a CPU big enough for efficient
# matmuls yet small enough that the whole run (compiling included) stays
# under five minutes; on a GPU ~64K tokens per step.
CPU_BATCH = {"micro": 32, "tiny": 8, "small": 1}
CUDA_BATCH = {"micro": 256, "tiny": 128, "small": 32}


def matmul_peak(device: torch.device, dtype: torch.dtype, seconds: float = 2.0) -> float:
    """Best FLOP/s of square matmuls in `dtype` (the ceiling MFU is measured against)."""
    sizes = (8192,) if device.type == "cuda" else (1536, 2048, 3072)
    reps = 10 if device.type == "cuda" else 1
    best = 0.0
    for n in sizes:
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)
        a @ b  # warm up the kernel selection
        synchronize(device)
        deadline = time.perf_counter() + seconds / len(sizes)
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            for _ in range(reps):
                a @ b
            synchronize(device)
            best = max(best, 2 * n**3 * reps / (time.perf_counter() - start))
    return best


@dataclass
class Result:
    size: str
    batch: int
    compiled: bool
    tokens_per_s: float
    """Median over the timed steps."""
    mfu_adjacent: float
    """Median of each step's FLOP/s over a peak measured just before it (same contention)."""
    warm_s: float
    """Seconds before the timed steps (compilation and warm-up)."""


def measure(
    size: str, p: DevicePlan, dtype: torch.dtype, batch: int, steps: int, compile_model: bool
) -> Result:
    cfg = preset(size)
    seq = cfg.context_length
    model = build_model(cfg).to(p.device)
    optimizer = build_optimizer(model, 1e-4, 0.1, p.device)
    net = LossModel(model)
    if compile_model:
        net = torch.compile(net)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, cfg.vocab_size, (batch, seq), generator=gen).to(p.device)
    y = torch.randint(0, cfg.vocab_size, (batch, seq), generator=gen).to(p.device)

    def step() -> float:
        synchronize(p.device)
        start = time.perf_counter()
        train_step(net, optimizer, lambda: (x, y), p)
        synchronize(p.device)
        return time.perf_counter() - start

    start = time.perf_counter()
    step()  # compiles (when asked), allocates the optimizer state
    warm = time.perf_counter() - start
    speeds, ratios = [], []
    for _ in range(steps):
        peak = matmul_peak(p.device, dtype, seconds=0.5)
        tps = batch * seq / step()
        speeds.append(tps)
        ratios.append(tps * flops_per_token(cfg, seq) / peak)
    return Result(size, batch, compile_model, statistics.median(speeds), statistics.median(ratios), warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="micro,tiny,small", help="comma-separated presets")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    parser.add_argument(
        "--compile", choices=("auto", "on", "off"), default="auto", help="auto: the trainer's default"
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="sequences per step (default per size and device)"
    )
    parser.add_argument("--steps", type=int, default=3, help="timed steps per size")
    args = parser.parse_args()

    p = plan(args.device)
    dtype = p.train_autocast or torch.float32
    dname = str(dtype).removeprefix("torch.")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {p.describe()}")
    if p.device.type == "cpu":
        print(f"CPU: {cpu_model()}; AMX: {'yes' if p.amx else 'no'}; load average {os.getloadavg()[0]:.1f}")
    print(f"training dtype: {dname} ({'autocast' if p.train_autocast else 'full precision'})")
    peak = matmul_peak(p.device, dtype)
    print(f"measured {dname} matmul peak: {peak / 1e9:,.1f} GFLOP/s")
    compile_model = args.compile == "on" or (args.compile == "auto" and compile_by_default(p.device))
    table = CUDA_BATCH if p.device.type == "cuda" else CPU_BATCH
    print(
        f"\n{'size':<6} {'params':>7} {'batch x seq':>12} {'compile':>8} {'tokens/s':>10} {'GFLOP/s':>9} "
        f"{'MFU':>6} {'MFU*':>6} {'warm-up':>8}",
        flush=True,
    )
    for size in args.sizes.split(","):
        r = measure(size, p, dtype, args.batch or table[size], args.steps, compile_model)
        # On a shared CPU the ceiling moves too; the best value seen so far is
        # the least flattering denominator.
        peak = max(peak, matmul_peak(p.device, dtype, seconds=1.0))
        cfg = PRESETS[r.size]
        flops = r.tokens_per_s * flops_per_token(cfg, cfg.context_length)
        print(
            f"{r.size:<6} {cfg.num_params() / 1e6:6.1f}M {f'{r.batch} x {cfg.context_length}':>12} "
            f"{'on' if r.compiled else 'off':>8} {r.tokens_per_s:10,.0f} {flops / 1e9:9,.1f} "
            f"{flops / peak:6.1%} {r.mfu_adjacent:6.1%} {r.warm_s:7.1f}s",
            flush=True,
        )
    print(f"\nMFU: against the best {dname} matmul peak seen ({peak / 1e9:,.1f} GFLOP/s);")
    print("MFU*: each step against a peak measured just before it (same load on a shared machine).")


if __name__ == "__main__":
    main()
