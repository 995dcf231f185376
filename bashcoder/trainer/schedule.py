"""Learning rate at each step (pure functions): linear warmup, then a cosine or warmup-stable-decay (WSD).

`cosine`: the rate falls from the peak to a floor over the whole run, so the
run's length must be fixed in advance; training longer means a warm restart.

`wsd` (Hu et al. 2024, "MiniCPM"; Hägele et al. 2024, "Scaling Laws and
Compute-Optimal Training Beyond Fixed Training Durations"): the rate stays
at the peak after warmup and falls only over the last `decay_steps`, with
the 1-sqrt shape that Hägele et al. found best. A run with no decay can be
continued at constant rate for as long as wanted; a copy of its state,
decayed for a short while, is the model to ship.
"""

from __future__ import annotations

import math

SCHEDULES = ("cosine", "wsd")
DEFAULT_DECAY_FRACTION = 0.2  # Hägele et al.: a cooldown of ~20% of the run matches cosine


def lr_at(
    step: int,
    peak: float,
    warmup_steps: int,
    max_steps: int,
    min_ratio: float,
    schedule: str = "cosine",
    decay_steps: int = 0,
) -> float:
    """Learning rate for optimizer step `step` (0-based).

    Warmup rises linearly to `peak` over `warmup_steps` (the first step is not
    zero, which would waste it). `cosine` then falls to `peak * min_ratio` at
    `max_steps`; `wsd` holds `peak` until `max_steps - decay_steps` and falls
    to `peak * min_ratio` by `max_steps` as 1 - sqrt(progress). Either stays
    at the floor if training runs past `max_steps`.
    """
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    floor = peak * min_ratio
    if schedule == "wsd":
        start = max(warmup_steps, max_steps - decay_steps)
        if decay_steps <= 0 or step < start:
            return peak
        progress = min(1.0, (step - start + 1) / max(1, max_steps - start))
        return floor + (peak - floor) * (1.0 - math.sqrt(progress))
    span = max(1, max_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return floor + (peak - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
