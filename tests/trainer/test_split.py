from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trainer_helpers import FIXTURES, write_corpus

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.prepare import prepare
from bashcoder.trainer.split import OVERSHOOT, choose_val_groups

group_sizes = st.dictionaries(
    st.text(min_size=1, max_size=8), st.integers(1, 10_000), min_size=2, max_size=40
)


@given(group_sizes, st.floats(0.01, 0.45), st.integers(0, 3))
@settings(max_examples=200, deadline=None)
def test_split_holds_out_some_groups_and_keeps_some(
    sizes: dict[str, int], fraction: float, seed: int
) -> None:
    val = choose_val_groups(sizes, fraction, seed)
    assert val and val < set(sizes)
    taken = sum(sizes[g] for g in val)
    assert taken <= max(OVERSHOOT * fraction * sum(sizes.values()), min(sizes.values()))
    # The order groups arrive in does not matter.
    assert choose_val_groups(dict(reversed(list(sizes.items()))), fraction, seed) == val


def test_a_single_group_cannot_be_split() -> None:
    with pytest.raises(BashcoderError, match="single source group"):
        choose_val_groups({"only-repo": 100}, 0.05)


def test_prepared_splits_never_share_a_group(tmp_path: Path) -> None:
    scripts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.sh"))]
    docs = []
    for g in range(30):
        for i, text in enumerate(scripts[:3]):
            docs.append((f"# group-{g:02d}-doc\n{scripts[(g + i) % len(scripts)]}{text}", f"repo{g:02d}"))
    prepared = prepare(write_corpus(tmp_path / "data", docs), "char", val_fraction=0.1)
    seen: dict[str, set[str]] = {}
    for split in ("train", "val"):
        ids = np.fromfile(prepared.bin_path(split), dtype=np.uint16)
        text = prepared.tokenizer.decode(ids.tolist())
        seen[split] = {f"repo{m}" for m in re.findall(r"# group-(\d\d)-doc", text)}
    assert seen["train"] and seen["val"]
    assert not seen["train"] & seen["val"]
    assert seen["val"] == set(prepared.meta["val_groups"])
    assert len(seen["train"]) + len(seen["val"]) == 30
    val_share = prepared.meta["val"]["bytes"] / (
        prepared.meta["val"]["bytes"] + prepared.meta["train"]["bytes"]
    )
    assert 0.03 < val_share <= 0.2
