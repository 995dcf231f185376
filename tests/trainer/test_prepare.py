from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from trainer_helpers import FIXTURES, fixture_docs, write_corpus

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.tokenizer import CharTokenizer
from bashcoder.trainer.prepare import prepare, read_corpus, token_byte_lengths


def test_documents_are_encoded_with_eot_before_each_and_counted(corpus_dir: Path) -> None:
    prepared = prepare(corpus_dir, "bpe", vocab_size=300)
    tok = prepared.tokenizer
    val_groups = set(prepared.meta["val_groups"])
    for split in ("train", "val"):
        ids = np.fromfile(prepared.bin_path(split), dtype=np.uint16)
        docs = [
            d for d in read_corpus(corpus_dir / "corpus.jsonl") if (d.group in val_groups) == (split == "val")
        ]
        meta = prepared.meta[split]
        assert ids[0] == tok.eot_id
        assert int((ids == tok.eot_id).sum()) == meta["docs"] == len(docs)
        assert meta["tokens"] == len(ids)
        assert meta["bytes"] == sum(len(d.text.encode("utf-8")) for d in docs)
        assert tok.decode(ids.tolist()) == "".join("<|endoftext|>" + d.text for d in docs)


def test_tokenizer_is_trained_on_the_training_split_only(tmp_path: Path) -> None:
    word = "zqxjvkwpfy"
    docs = (
        fixture_docs(3)
        + [(f"echo {word}\n" * 50, "val-only")]
        + [(f"echo {i}\n", f"tiny{i}") for i in range(40)]
    )
    data = write_corpus(tmp_path / "data", docs)
    prepared = prepare(data, "bpe", vocab_size=300, val_fraction=0.2)
    assert "val-only" in prepared.meta["val_groups"]
    # Trained on the val group, BPE would have merged the word into a token or two.
    assert len(prepared.tokenizer.encode(word)) >= len(word) - 2


def test_prepare_is_cached_by_content_hash(corpus_dir: Path) -> None:
    first = prepare(corpus_dir, "bpe", vocab_size=300)
    stamp = first.bin_path("train").stat().st_mtime_ns
    again = prepare(corpus_dir, "bpe", vocab_size=300)
    assert again.directory == first.directory
    assert again.bin_path("train").stat().st_mtime_ns == stamp
    assert prepare(corpus_dir, "char").directory != first.directory
    with (corpus_dir / "corpus.jsonl").open("a") as fh:
        fh.write(json.dumps({"text": "echo new\n", "group": "new"}) + "\n")
    assert prepare(corpus_dir, "bpe", vocab_size=300).directory != first.directory


def test_token_byte_lengths_add_up_to_the_text(corpus_dir: Path) -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.sh"))] + [
        "naïve → ünïcödé 日本\r\n"
    ]
    for tok in (prepare(corpus_dir, "bpe", vocab_size=300).tokenizer, CharTokenizer()):
        lengths = token_byte_lengths(tok)
        for text in texts:
            assert int(lengths[[tok.eot_id, *tok.encode(text)]].sum()) == len(text.encode("utf-8"))


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (None, "no corpus at"),
        ([], "holds no documents"),
        (['{"text": "", "group": "a"}'], "holds no documents"),
        (["not json"], "line 1 is not a record"),
        (['{"text": "echo hi", "source": "x"}'], "line 1 is not a record"),
        (['{"text": "echo hi", "group": "a"}', '{"text": "echo \xff", "group": "b"}'], "line 2 is not UTF-8"),
    ],
)
def test_bad_corpora_are_one_line_errors(tmp_path: Path, lines: list[str] | None, message: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if lines is not None:
        # latin-1 writes "\xff" as the one byte 0xff, which is not UTF-8
        (data / "corpus.jsonl").write_bytes("".join(line + "\n" for line in lines).encode("latin-1"))
    with pytest.raises(BashcoderError, match=message) as err:
        prepare(data)
    assert "\n" not in str(err.value)


def test_vocabulary_too_large_for_the_data_is_an_error(corpus_dir: Path) -> None:
    with pytest.raises(BashcoderError, match="too large for this corpus.*--vocab-size \\d+ or less"):
        prepare(corpus_dir, "bpe", vocab_size=8192)


def test_a_prepared_directory_carried_without_its_corpus_is_used_as_it_is(
    corpus_dir: Path, tmp_path: Path
) -> None:
    first = prepare(corpus_dir, "bpe", vocab_size=300)
    carried = tmp_path / "carried"
    carried.mkdir()
    for name in ("meta.json", "tokenizer.json", "train.bin", "val.bin"):
        (carried / name).write_bytes((first.directory / name).read_bytes())
    again = prepare(carried, "bpe", vocab_size=300)
    assert again.directory == carried
    assert again.meta == first.meta
    assert again.tokenizer.encode("echo hi") == first.tokenizer.encode("echo hi")
    with pytest.raises(BashcoderError, match="drop --mix"):
        prepare(carried, "bpe", vocab_size=300, mix=(("git", 0.5),))


@pytest.mark.parametrize(("split", "size"), [("train", 1000), ("train", 1001), ("val", 0), ("val", None)])
def test_a_damaged_bin_is_one_line_not_a_run_on_part_of_the_data(
    corpus_dir: Path, split: str, size: int | None
) -> None:
    first = prepare(corpus_dir, "bpe", vocab_size=300)
    path = first.bin_path(split)
    if size is None:
        path.unlink()
    else:
        with path.open("r+b") as fh:
            fh.truncate(size)
    with pytest.raises(BashcoderError, match=f"{split}.bin (is missing|holds).*damaged; delete") as err:
        prepare(corpus_dir, "bpe", vocab_size=300)
    assert "\n" not in str(err.value)
