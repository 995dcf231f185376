"""The model's bits per byte on whole documents."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from bashcoder.engine.device import autocast
from bashcoder.engine.generate import Generator


@torch.inference_mode()
def model_bpb(gen: Generator, texts: list[str], progress=None, stride: int | None = None) -> float:  # noqa: ANN001
    """Bits per UTF-8 byte of `texts` (see `model_nll`)."""
    nll_nats, n_bytes = model_nll(gen, texts, progress, stride)
    return nll_nats / math.log(2) / max(1, n_bytes)


def scored_windows(n_targets: int, ctx: int, stride: int) -> list[tuple[int, int, int]]:
    """Sliding windows over a document of `n_targets` predicted tokens.

    Returns (begin, end, first_scored) triples: the window feeds tokens
    begin..end-1 and predicts targets begin..end-1 (token i+1 from tokens
    <= i), of which only those from `first_scored` on are counted, so each
    target is counted exactly once. The first window scores all it holds;
    later ones advance by `stride` and score only their new targets, each with
    at least ctx - stride tokens of context. stride == ctx gives the disjoint
    windows that each start fresh. This is the strided evaluation of
    Hugging Face's "Perplexity of fixed-length models" guide.

    Raises ValueError unless 1 <= stride <= ctx.
    """
    if not 1 <= stride <= ctx:
        raise ValueError(f"stride {stride} must be between 1 and the context length {ctx}")
    windows = []
    scored_to = 0
    begin = 0
    while scored_to < n_targets:
        end = min(begin + ctx, n_targets)
        windows.append((begin, end, scored_to))
        scored_to = end
        begin += stride
    return windows


@torch.inference_mode()
def model_nll(
    gen: Generator,
    texts: list[str],
    progress=None,  # noqa: ANN001
    stride: int | None = None,
) -> tuple[float, int]:
    """(negative log-likelihood in nats of every token, UTF-8 bytes) summed over `texts`.

    Bits per byte is nll / ln 2 / bytes.

    Each document starts after <|endoftext|>, as in training. A document
    longer than the context is read in sliding windows (`scored_windows`):
    with `stride` (default half the context) every token past the first
    window is predicted from at least context - stride tokens, as the model
    sees text when it completes. stride = context length scores disjoint
    windows that each start fresh (pessimistic: a window's first tokens are
    predicted from almost nothing), and costs least.
    """
    ctx = gen.cfg.context_length
    stride = ctx // 2 if stride is None else stride
    nll_nats = 0.0
    n_bytes = 0
    for text in texts:
        ids = torch.tensor([gen.tokenizer.eot_id, *gen.tokenizer.encode(text)], device=gen.plan.device)
        n_bytes += len(text.encode("utf-8"))
        for begin, end, first in scored_windows(len(ids) - 1, ctx, stride):
            with autocast(gen.plan.device, gen.plan.prefill_dtype):
                logits = gen.model(ids[None, begin:end])
            nll_nats += F.cross_entropy(
                logits[0, first - begin :].float(), ids[first + 1 : end + 1], reduction="sum"
            ).item()
        if progress is not None:
            progress.update(1)
    return nll_nats, n_bytes
