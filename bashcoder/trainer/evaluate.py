"""Validation: loss and bits per byte over fixed windows of val.bin.

The windows are the same at every evaluation (evenly spaced, or the whole
split when it is small enough), so the curve moves only with the model, and
evaluation consumes no randomness, so it never perturbs the training stream.
Bytes are counted per target token, so a sample of windows is measured as
exactly as the whole split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bashcoder.engine.device import DevicePlan, autocast
from bashcoder.engine.model import Transformer
from bashcoder.trainer.metrics import bits_per_byte

IGNORE = -100


@dataclass(frozen=True)
class EvalResult:
    """Sums over the evaluated targets (summed over ranks when distributed)."""

    loss_sum: float
    """Cross-entropy in nats, summed over target tokens."""
    targets: int
    """Target tokens evaluated."""
    n_bytes: int
    """UTF-8 bytes those targets spell (special tokens count 0)."""

    @property
    def loss(self) -> float:
        return self.loss_sum / max(1, self.targets)

    @property
    def bpb(self) -> float:
        return bits_per_byte(self.loss_sum, self.n_bytes)


def eval_starts(n_tokens: int, seq_len: int, max_targets: int) -> np.ndarray:
    """Window start offsets: every target once if the split fits in `max_targets`, else an even spread."""
    n_targets = n_tokens - 1
    if n_targets <= 0:
        return np.zeros(0, dtype=np.int64)
    if n_targets <= max_targets or n_targets <= seq_len:
        return np.arange(0, n_targets, seq_len, dtype=np.int64)
    count = max(1, max_targets // seq_len)
    return np.linspace(0, n_targets - seq_len, count).astype(np.int64)


def window_batch(tokens: np.ndarray, starts: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y), each (B, T); the last window may run off the end and is padded (targets IGNORE)."""
    x = np.zeros((len(starts), seq_len), dtype=np.int64)
    y = np.full((len(starts), seq_len), IGNORE, dtype=np.int64)
    for row, s in enumerate(starts):
        piece = np.asarray(tokens[s : s + seq_len + 1], dtype=np.int64)
        x[row, : len(piece) - 1] = piece[:-1]
        y[row, : len(piece) - 1] = piece[1:]
    return x, y


@torch.no_grad()
def evaluate(
    model: Transformer,
    tokens: np.ndarray,
    byte_lengths: np.ndarray,
    seq_len: int,
    batch_size: int,
    max_targets: int,
    plan: DevicePlan,
    rank: int = 0,
    world_size: int = 1,
) -> EvalResult:
    """This rank's share of the validation sums (the caller adds up the ranks)."""
    was_training = model.training
    model.eval()
    starts = eval_starts(len(tokens), seq_len, max_targets)[rank::world_size]
    loss_sum, n_targets, n_bytes = 0.0, 0, 0
    lengths = torch.from_numpy(byte_lengths)
    for i in range(0, len(starts), batch_size):
        x, y = window_batch(tokens, starts[i : i + batch_size], seq_len)
        xt = torch.from_numpy(x).to(plan.device)
        yt = torch.from_numpy(y)
        with autocast(plan.device, plan.train_autocast):
            logits = model(xt)  # (B, T, V)
        losses = F.cross_entropy(
            logits.float().flatten(0, 1), yt.to(plan.device).flatten(), ignore_index=IGNORE, reduction="none"
        )
        valid = yt.flatten() != IGNORE
        loss_sum += float(losses.double().sum())
        n_targets += int(valid.sum())
        n_bytes += int(lengths[yt.flatten()[valid]].sum())
    model.train(was_training)
    return EvalResult(loss_sum, n_targets, n_bytes)
