"""Training arithmetic (bits per byte, FLOPs per token) and the metrics.jsonl log.

Every line of metrics.jsonl is one JSON object with a `kind` ("train" or
"val"), the optimizer `step` it belongs to and the `tokens` seen by then.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from bashcoder.engine.config import ModelConfig

METRICS_FILE = "metrics.jsonl"


def bits_per_byte(loss_sum_nats: float, n_bytes: int) -> float:
    """Summed cross-entropy (nats, over predicted tokens) divided by the bytes those tokens spell, in bits.

    Unlike loss per token, this does not depend on the tokenizer, so runs with
    different vocabularies (and xz or zstd) compare on the same scale.
    """
    if n_bytes <= 0:
        return float("nan")
    return loss_sum_nats / (n_bytes * math.log(2))


def flops_per_token(cfg: ModelConfig, seq_len: int) -> float:
    """Training FLOPs (forward + backward) per token, as in the PaLM paper's MFU.

    6 per parameter (the tied head counted once, as the output matmul it is;
    the embedding lookup costs nothing) plus 12 * layers * width * T for the
    attention scores and their weighted sum.
    """
    return 6.0 * cfg.num_params() + 12.0 * cfg.n_layer * cfg.n_embd * seq_len


class MetricsLog:
    """Append-only metrics.jsonl, flushed per line so a killed run keeps what it logged."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / METRICS_FILE

    def append(self, record: dict[str, object]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")

    def read(self) -> list[dict[str, object]]:
        if not self.path.is_file():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut by a kill mid-write
                continue
        return records

    def truncate_after(self, step: int) -> None:
        """Drop records past `step`: on resume, the steps after the checkpoint are trained again."""
        kept = [r for r in self.read() if int(r.get("step", 0)) <= step]  # type: ignore[call-overload]
        tmp = self.path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept), encoding="utf-8")
        os.replace(tmp, self.path)
