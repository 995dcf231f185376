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
from bashcoder.trainer.split import OVERSHOOT, choose_split, choose_val_groups

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


def test_a_single_group_cannot_be_split_by_group() -> None:
    with pytest.raises(BashcoderError, match="single source group"):
        choose_val_groups({"only-repo": 100}, 0.05)


def own_scripts(n: int = 40) -> list[tuple[str, str]]:
    """What `bashcoder-collect --dir ~/bin` gives: every file in one group."""
    scripts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.sh"))]
    return [(f"# file-{i:03d}\n{scripts[i % len(scripts)]}", "home/bin") for i in range(n)]


def test_one_directory_of_own_scripts_is_split_by_file_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prepared = prepare(write_corpus(tmp_path / "data", own_scripts()), "char", val_fraction=0.1)
    assert "validation shares a source with training" in capsys.readouterr().err
    assert prepared.meta["split"] == "file"
    seen: dict[str, set[str]] = {}
    for split in ("train", "val"):
        text = prepared.tokenizer.decode(np.fromfile(prepared.bin_path(split), dtype=np.uint16).tolist())
        seen[split] = set(re.findall(r"# file-(\d+)", text))
    assert seen["train"] and seen["val"] and not seen["train"] & seen["val"]
    assert len(seen["train"]) + len(seen["val"]) == 40
    total = prepared.meta["val"]["bytes"] + prepared.meta["train"]["bytes"]
    assert 0.03 < prepared.meta["val"]["bytes"] / total <= 0.2
    # A second run finds the prepared files in the cache and still says so.
    prepare(tmp_path / "data", "char", val_fraction=0.1)
    assert "validation shares a source with training" in capsys.readouterr().err


def test_a_single_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BashcoderError, match="at least two"):
        prepare(write_corpus(tmp_path / "data", own_scripts(1)), "char")


def test_no_documents_are_named_as_such() -> None:
    # bashcoder-eval --data on an empty corpus.jsonl reads the split through here
    with pytest.raises(BashcoderError, match="holds no documents; run bashcoder-collect"):
        choose_split([], 0.05, 0)


@given(group_sizes, st.floats(0.01, 0.45))
@settings(max_examples=100, deadline=None)
def test_two_groups_or_more_are_split_by_group_without_a_warning(
    sizes: dict[str, int], fraction: float
) -> None:
    docs = [(group, f"{group}-{i}", size) for group, size in sizes.items() for i in range(2)]
    split = choose_split(docs, fraction)
    assert split.by == "group" and split.warning is None
    by_group = choose_val_groups(sizes, fraction)
    assert all(split.is_val(g, f"{g}-{i}") == (g in by_group) for g in sizes for i in range(2))
