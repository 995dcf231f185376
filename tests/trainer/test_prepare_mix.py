"""--mix: target shares of training tokens per corpus source, reached in prepare by repeating or dropping
documents; the validation split is never resampled and records each source's token range."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.prepare import copies, prepare, repeat_factors

SIZES = {"git": 40, "debian": 20, "docs": 10}  # documents (one group each) per source


def doc_text(source: str, i: int) -> str:
    body = "".join(f'echo "{source}-{i}-{k}" >> "$log"\n' for k in range(8))
    return f"#!/bin/bash\n# {source} script number {i}\nlog=/tmp/{source}.log\n{body}"


def write_sources_corpus(directory: Path, order: str = "sorted") -> Path:
    """corpus.jsonl with three sources, one group per document, sorted as the collector writes it."""
    records = [
        {
            "text": doc_text(source, i),
            "source": source,
            "group": f"{source}/g{i:02d}",
            "path": f"{i}.sh",
            "license": "MIT",
            "sha256": "",
        }
        for source, n in SIZES.items()
        for i in range(n)
    ]
    if order == "sorted":
        records.sort(key=lambda r: (r["source"], r["group"], r["path"]))
    elif order == "interleaved":
        records.sort(key=lambda r: (int(r["path"].split(".")[0]), r["source"]))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return directory


def shares(factors: dict[str, float], sizes: dict[str, int]) -> dict[str, float]:
    total = sum(factors[s] * n for s, n in sizes.items())
    return {s: factors[s] * n / total for s, n in sizes.items()}


# ---- repeat_factors / copies ----------------------------------------------------
def test_named_shares_are_reached_and_the_others_keep_their_size() -> None:
    sizes = {"git": 800, "debian": 150, "docs": 50}
    factors = repeat_factors(sizes, {"docs": 0.25})
    assert factors["git"] == 1.0 and factors["debian"] == 1.0
    assert shares(factors, sizes)["docs"] == pytest.approx(0.25)
    assert factors["docs"] == pytest.approx(0.25 * (950 / 0.75) / 50)
    # A share below the natural one drops documents.
    down = repeat_factors(sizes, {"git": 0.5})
    assert down["git"] < 1.0 and down["debian"] == down["docs"] == 1.0
    assert shares(down, sizes)["git"] == pytest.approx(0.5)


def test_two_named_shares_leave_the_rest_in_their_natural_proportion() -> None:
    sizes = {"git": 600, "debian": 300, "docs": 100}
    factors = repeat_factors(sizes, {"debian": 0.3, "docs": 0.2})
    got = shares(factors, sizes)
    assert got["debian"] == pytest.approx(0.3) and got["docs"] == pytest.approx(0.2)
    assert got["git"] == pytest.approx(0.5) and factors["git"] == 1.0


def test_no_mix_keeps_every_source_as_it_is() -> None:
    assert repeat_factors({"git": 10, "docs": 5}, {}) == {"git": 1.0, "docs": 1.0}


def test_naming_every_source_normalises_the_shares_and_keeps_the_total() -> None:
    sizes = {"git": 600, "debian": 300, "docs": 100}
    factors = repeat_factors(sizes, {"git": 2.0, "debian": 1.0, "docs": 1.0})
    assert shares(factors, sizes) == pytest.approx({"git": 0.5, "debian": 0.25, "docs": 0.25})
    assert sum(factors[s] * n for s, n in sizes.items()) == pytest.approx(sum(sizes.values()))


def test_a_share_for_a_source_the_split_lacks_is_an_error_naming_the_sources() -> None:
    with pytest.raises(
        BashcoderError, match="--mix names tldr, which the training split does not hold"
    ) as exc:
        repeat_factors({"git": 100, "debian": 50, "docs": 0}, {"tldr": 0.2})
    assert "its sources are debian, git." in str(exc.value)  # a source with no bytes is not one
    assert "\n" not in str(exc.value)


def test_shares_that_leave_nothing_for_unnamed_sources_are_an_error() -> None:
    with pytest.raises(BashcoderError, match=r"add up to 1\b.*\(docs\)"):
        repeat_factors({"git": 100, "debian": 50, "docs": 10}, {"git": 0.6, "debian": 0.4})
    with pytest.raises(BashcoderError, match="add up to 1.2"):
        repeat_factors({"git": 100, "debian": 50, "docs": 10}, {"git": 1.2})


def test_copies_are_the_whole_part_plus_a_deterministic_draw_for_the_fraction() -> None:
    assert copies("echo a\n", 3.0) == 3 and copies("echo a\n", 0.0) == 0 and copies("echo a\n", 1.0) == 1
    texts = [f"echo {i}\n" for i in range(4000)]
    assert all(copies(t, 2.25) in (2, 3) for t in texts[:50])
    assert [copies(t, 2.25) for t in texts[:50]] == [copies(t, 2.25) for t in texts[:50]]
    assert sum(copies(t, 2.25) for t in texts) / len(texts) == pytest.approx(2.25, abs=0.03)
    assert sum(copies(t, 0.4) for t in texts) / len(texts) == pytest.approx(0.4, abs=0.03)


# ---- prepare(mix=...) -----------------------------------------------------------
def source_tokens(meta: dict, split: str) -> dict[str, int]:
    return {s: end - start for s, (start, end) in meta[split]["sources"].items()}


def test_train_tokens_follow_the_mix_and_val_is_untouched(tmp_path: Path) -> None:
    data = write_sources_corpus(tmp_path / "data")
    plain = prepare(data, "char", val_fraction=0.2)
    mixed = prepare(data, "char", val_fraction=0.2, mix=(("docs", 0.3),))
    assert mixed.directory != plain.directory  # the mix is part of the cache key
    assert plain.meta["mix"] == {"debian": 1.0, "docs": 1.0, "git": 1.0}
    assert mixed.meta["mix"]["docs"] > 2 and mixed.meta["mix"]["git"] == mixed.meta["mix"]["debian"] == 1.0
    before, after = source_tokens(plain.meta, "train"), source_tokens(mixed.meta, "train")
    assert after["git"] == before["git"] and after["debian"] == before["debian"]
    assert after["docs"] / sum(after.values()) == pytest.approx(0.3, abs=0.03)
    assert before["docs"] / sum(before.values()) < 0.2
    train_ids = np.fromfile(mixed.bin_path("train"), dtype=np.uint16)
    assert len(train_ids) == mixed.meta["train"]["tokens"] == sum(after.values())
    assert mixed.meta["train"]["docs"] > plain.meta["train"]["docs"]
    # The validation split and the tokenizer do not depend on the mix.
    assert mixed.bin_path("val").read_bytes() == plain.bin_path("val").read_bytes()
    assert mixed.meta["val"] == plain.meta["val"] and mixed.meta["val_groups"] == plain.meta["val_groups"]


def test_a_mix_below_the_natural_share_drops_training_documents(tmp_path: Path) -> None:
    data = write_sources_corpus(tmp_path / "data")
    plain = prepare(data, "char", val_fraction=0.2)
    mixed = prepare(data, "char", val_fraction=0.2, mix=(("git", 0.2), ("debian", 0.4), ("docs", 0.4)))
    before, after = source_tokens(plain.meta, "train"), source_tokens(mixed.meta, "train")
    assert after["git"] < before["git"] and after["docs"] > before["docs"]
    total = sum(after.values())
    assert after["git"] / total == pytest.approx(0.2, abs=0.05)
    assert after["docs"] / total == pytest.approx(0.4, abs=0.05)
    assert total == pytest.approx(sum(before.values()), rel=0.15)  # all named: the natural total


def test_a_mix_naming_a_missing_source_fails_before_writing(tmp_path: Path) -> None:
    data = write_sources_corpus(tmp_path / "data")
    with pytest.raises(BashcoderError, match="--mix names man"):
        prepare(data, "char", val_fraction=0.2, mix=(("man", 0.2),))
    prepared = data / "prepared"
    assert not prepared.exists() or not [p for p in prepared.iterdir() if not p.name.startswith(".")]


def test_val_source_ranges_are_contiguous_and_hold_only_their_source(tmp_path: Path) -> None:
    data = write_sources_corpus(tmp_path / "data")
    prepared = prepare(data, "char", val_fraction=0.2, mix=(("docs", 0.3),))
    tok = prepared.tokenizer
    val_ids = np.fromfile(prepared.bin_path("val"), dtype=np.uint16)
    ranges = sorted((start, end, source) for source, (start, end) in prepared.meta["val"]["sources"].items())
    assert {source for _, _, source in ranges} == set(SIZES)  # every source has held-out groups here
    assert ranges[0][0] == 0 and ranges[-1][1] == len(val_ids)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    for start, end, source in ranges:
        docs = [d for d in tok.decode(val_ids[start:end].tolist()).split("<|endoftext|>") if d]
        assert docs and all(d.startswith(f"#!/bin/bash\n# {source} script") for d in docs), source


def test_val_source_ranges_do_not_overlap_for_an_interleaved_corpus(tmp_path: Path) -> None:
    data = write_sources_corpus(tmp_path / "data", order="interleaved")
    prepared = prepare(data, "char", val_fraction=0.2)
    tok = prepared.tokenizer
    val_ids = np.fromfile(prepared.bin_path("val"), dtype=np.uint16)
    for source, (start, end) in prepared.meta["val"]["sources"].items():
        docs = [d for d in tok.decode(val_ids[start:end].tolist()).split("<|endoftext|>") if d]
        assert all(d.startswith(f"#!/bin/bash\n# {source} script") for d in docs), source
