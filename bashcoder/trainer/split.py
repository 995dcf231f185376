"""Choose what is held out for validation (pure functions).

A group is a repository, a Debian package or a directory root: files inside
one group share authors, idioms and often whole functions, so a document-level
split would leak training text into validation and flatter the bits per byte.
Whole groups go to one side only whenever there are two groups or more.

A corpus collected from one directory of the user's own scripts is a single
group: then files are held out instead, and the split carries a warning that
validation shares a source with training (its bits per byte flatter the model).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


def file_key(text: str) -> str:
    """A document's identity for a by-file split: its content, so identical files land on one side."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class Split:
    """Which documents are held out for validation, and how they were chosen."""

    by: str
    """"group" (whole source groups held out) or "file" (files of the one group held out)."""
    val: frozenset[str]
    """The held-out groups, or the held-out file keys (`file_key`) when `by` is "file"."""
    warning: str | None = None
    """What to tell the user when validation shares a source with training; None when it does not."""

    def is_val(self, group: str, key: str) -> bool:
        """Whether the document of `group` with file key `key` is in the validation split."""
        return (group if self.by == "group" else key) in self.val


def choose_split(docs: Iterable[tuple[str, str, int]], fraction: float, seed: int = 0) -> Split:
    """The validation split of documents given as (group, file key, bytes).

    By group when there are two groups or more (as `choose_val_groups`);
    by file, with a warning, when there is one. Deterministic for a given
    seed and set of documents. BashcoderError when there are fewer than two files.
    """
    group_bytes: Counter[str] = Counter()
    file_bytes: Counter[str] = Counter()
    for group, key, size in docs:
        group_bytes[group] += size
        file_bytes[key] += size
    if len(group_bytes) >= 2:
        return Split("group", choose_val_groups(group_bytes, fraction, seed))
    if not file_bytes:
        raise BashcoderError("the corpus holds no documents; run bashcoder-collect on some bash sources.")
    if len(file_bytes) < 2:
        raise BashcoderError(
            "the corpus holds a single file; validation needs a file training never sees, "
            "so collect at least two scripts (more than a few hundred make a useful model)."
        )
    warning = (
        f"warning: the corpus has a single source group ({next(iter(group_bytes))!r}), so validation holds "
        f"out about {fraction:.0%} of its files instead: "
        "validation shares a source with training and its bits per byte will look better than on code "
        "from elsewhere. Collect from more repositories, packages or directories for a fair figure."
    )
    return Split("file", choose_val_groups(file_bytes, fraction, seed), warning)
