"""The training plot: train loss and validation bits per byte against tokens seen, as a PNG."""

from __future__ import annotations

import os
from pathlib import Path

PLOT_FILE = "training.png"


def plot_metrics(records: list[dict[str, object]], path: Path) -> Path:
    """Draw `records` (metrics.jsonl lines) to `path`, replacing it atomically."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    train = [r for r in records if r.get("kind") == "train"]
    val = [r for r in records if r.get("kind") == "val"]
    fig, loss_ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    loss_ax.plot(
        [r["tokens"] for r in train], [r["loss"] for r in train], color="tab:blue", lw=1, label="train loss"
    )
    loss_ax.set_xlabel("tokens seen")
    loss_ax.set_ylabel("train loss (nats/token)", color="tab:blue")
    loss_ax.grid(alpha=0.3)
    bpb_ax = loss_ax.twinx()
    bpb_ax.plot(
        [r["tokens"] for r in val], [r["bpb"] for r in val], "o-", color="tab:red", ms=3, label="val bpb"
    )
    bpb_ax.set_ylabel("validation bits per byte", color="tab:red")
    fig.suptitle("bashcoder training")
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path
