"""Choose which source groups are held out for validation (a pure function).

A group is a repository, a Debian package or a directory root: files inside
one group share authors, idioms and often whole functions, so a document-level
split would leak training text into validation and flatter the bits per byte.
Whole groups go to one side only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from bashcoder.engine.errors import BashcoderError

# A group may overshoot the validation target by this factor: without a cap one
# huge repository drawn first would turn "5%" into 60% of the data.
OVERSHOOT = 2.0


def _order_key(seed: int, group: str) -> bytes:
    return hashlib.sha256(f"{seed}\0{group}".encode()).digest()


def choose_val_groups(group_bytes: Mapping[str, int], fraction: float, seed: int = 0) -> frozenset[str]:
    """Groups for validation, about `fraction` of all bytes, in a seed-fixed pseudo-random order.

    Deterministic for a given seed and set of groups (independent of input
    order). Never returns every group: at least one stays for training, and at
    least one goes to validation.
    """
    if len(group_bytes) < 2:
        only = next(iter(group_bytes), "?")
        raise BashcoderError(
            f"the corpus has a single source group ({only!r}); validation must come from a source training "
            "never sees, so collect from at least two repositories, packages or directories."
        )
    total = sum(group_bytes.values())
    target = fraction * total
    chosen: list[str] = []
    taken = 0
    for group in sorted(group_bytes, key=lambda g: _order_key(seed, g)):
        if taken >= target:
            break
        size = group_bytes[group]
        if taken + size <= OVERSHOOT * target:
            chosen.append(group)
            taken += size
    if not chosen:
        # Every group is bigger than the cap: hold out the smallest one, which
        # is at most half of the data because there are at least two.
        chosen.append(min(group_bytes, key=lambda g: (group_bytes[g], _order_key(seed, g))))
    return frozenset(chosen)
