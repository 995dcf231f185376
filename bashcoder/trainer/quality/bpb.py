"""The model's bits per byte on whole documents."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from bashcoder.engine.device import autocast
from bashcoder.engine.generate import Generator


@torch.inference_mode()
def model_bpb(gen: Generator, texts: list[str], progress=None) -> float:  # noqa: ANN001
    """Bits per UTF-8 byte of `texts` (see `model_nll`)."""
    nll_nats, n_bytes = model_nll(gen, texts, progress)
    return nll_nats / math.log(2) / max(1, n_bytes)


@torch.inference_mode()
def model_nll(gen: Generator, texts: list[str], progress=None) -> tuple[float, int]:  # noqa: ANN001
    """(negative log-likelihood in nats of every token, UTF-8 bytes) summed over `texts`.

    Bits per byte is nll / ln 2 / bytes.

    Each document starts after <|endoftext|>, as in training; long ones are
    cut into context-length windows that each start fresh (a slight
    pessimism, the same for every model).
    """
    ctx = gen.cfg.context_length
    nll_nats = 0.0
    n_bytes = 0
    for text in texts:
        ids = [gen.tokenizer.eot_id, *gen.tokenizer.encode(text)]
        n_bytes += len(text.encode("utf-8"))
        for start in range(0, len(ids) - 1, ctx):
            chunk = torch.tensor([ids[start : start + ctx + 1]], device=gen.plan.device)
            if chunk.shape[1] < 2:
                continue
            with autocast(gen.plan.device, gen.plan.prefill_dtype):
                logits = gen.model(chunk[:, :-1])
            nll_nats += F.cross_entropy(logits[0].float(), chunk[0, 1:], reduction="sum").item()
        if progress is not None:
            progress.update(1)
    return nll_nats, n_bytes
