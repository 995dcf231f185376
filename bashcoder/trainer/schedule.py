"""Learning rate at each step: linear warmup, then a cosine down to a floor (a pure function)."""

from __future__ import annotations

import math


def lr_at(step: int, peak: float, warmup_steps: int, max_steps: int, min_ratio: float) -> float:
    """Learning rate for optimizer step `step` (0-based).

    Warmup rises linearly to `peak` over `warmup_steps` (the first step is not
    zero, which would waste it); the cosine then falls to `peak * min_ratio`
    at `max_steps` and stays there if training runs past it.
    """
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    span = max(1, max_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    floor = peak * min_ratio
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
