"""Table and plot of a recipe sweep: validation bits per byte against tokens, per run.

Usage: .venv/bin/python bench/recipe_sweep_table.py RUN_DIR... [--at-step 4800] [--plot sweep.png]

Each RUN_DIR is a `bashcoder-train` output (its metrics.jsonl); a run and its
decayed copy (`NAME` and `NAME-decay`, as scripts/train_on_gpu.py leaves them)
are drawn as one line. The table gives, per run, the validation bits per byte
at constant LR at `--at-step` (runs compared at equal tokens), the best after
the decay, the tokens and epochs that took, and the throughput.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def read(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def val_at(records: list[dict], step: int) -> float | None:
    """Validation bpb at the evaluation nearest to `step` (at or before it)."""
    vals = [r for r in records if r["kind"] == "val" and r["step"] <= step]
    return vals[-1]["bpb"] if vals else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--at-step", type=int, default=4800)
    ap.add_argument("--plot", type=Path, default=None)
    opts = ap.parse_args()

    for run in opts.runs:
        if not (run / "metrics.jsonl").is_file():
            ap.error(f"{run} has no metrics.jsonl; pass bashcoder-train output directories.")
    constant = [r for r in opts.runs if not r.name.endswith("-decay")]
    decayed = {r.name.removesuffix("-decay"): r for r in opts.runs if r.name.endswith("-decay")}
    print(f"{'run':<16} {'bpb @' + str(opts.at_step):>11} {'decayed':>8} {'tokens':>8} {'tok/s':>9}")
    curves = {}
    for run in constant:
        recs = read(run)
        dec = read(decayed[run.name]) if run.name in decayed else []
        best = min((r["bpb"] for r in dec if r["kind"] == "val"), default=None)
        last = [r for r in recs + dec if r["kind"] == "train"]
        tokens = last[-1]["tokens"] if last else 0
        rates = sorted(r["tokens_per_s"] for r in last)
        rate = rates[len(rates) // 2] if rates else 0.0
        at = val_at(recs, opts.at_step)
        print(
            f"{run.name:<16} {at if at is not None else float('nan'):>11.4f} "
            f"{best if best is not None else float('nan'):>8.4f} {tokens / 1e6:>7.0f}M {rate:>9,.0f}"
        )
        curves[run.name] = [(r["tokens"], r["bpb"]) for r in recs + dec if r["kind"] == "val"]
    if opts.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        for name, pts in curves.items():
            pts.sort()
            ax.plot([t / 1e6 for t, _ in pts], [b for _, b in pts], marker=".", label=name)
        ax.set_xlabel("training tokens (millions)")
        ax.set_ylabel("validation bits per byte")
        ax.set_ylim(top=1.2)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(opts.plot, dpi=110)
        print(f"plot: {opts.plot}")


if __name__ == "__main__":
    main()
