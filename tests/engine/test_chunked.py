"""The memoised chunk encoder gives exactly the tokenizer's ids, for any text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bashcoder.engine.checkpoint import load_model_dir
from bashcoder.engine.chunked import ChunkedEncoder, chunks
from bashcoder.engine.tokenizer import CharTokenizer, train_tokenizer

SHIPPED = Path(__file__).resolve().parents[2] / "bashcoder" / "models" / "tiny"

# Whitespace of every kind next to newlines and digits is where pre-tokenizers differ.
_PIECES = st.sampled_from(
    [
        "\n",
        "\n\n",
        " ",
        "  ",
        "\t",
        "\r\n",
        "fi",
        "do",
        "echo",
        "x",
        "1",
        "23",
        "é",
        "$",
        "#",
        "-",
        "\u00a0",
        "<|endoftext|>",
    ]
)
_TEXTS = st.lists(_PIECES, max_size=60).map("".join)


@pytest.fixture(scope="module")
def shipped_tokenizer():  # noqa: ANN201
    return load_model_dir(SHIPPED).tokenizer


def test_chunks_rejoin_to_the_text_and_cut_only_at_unindented_line_starts() -> None:
    text = "a\nb\n  c\nd\n\ne\n"
    parts = chunks(text)
    assert "".join(parts) == text
    assert parts == ["a\n", "b\n  c\n", "d\n\ne\n"]


def test_fixture_scripts_encode_identically(bpe_tokenizer, scripts: list[str]) -> None:  # noqa: ANN001
    enc = ChunkedEncoder(bpe_tokenizer)
    assert enc.exact
    for text in scripts:
        assert enc.encode(text) == bpe_tokenizer.encode(text)
        assert enc.count(text) == len(bpe_tokenizer.encode(text))


def test_every_prefix_of_a_script_encodes_identically(shipped_tokenizer, scripts: list[str]) -> None:  # noqa: ANN001
    # As a user types: each keystroke's prefix, answered mostly from memoised chunks.
    enc = ChunkedEncoder(shipped_tokenizer)
    text = max(scripts, key=len)[:3000]
    for end in range(0, len(text), 7):
        assert enc.encode(text[:end]) == shipped_tokenizer.encode(text[:end])


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_any_text_encodes_identically(text: str) -> None:
    tok = _tokenizer()
    assert ChunkedEncoder(tok).encode(text) == tok.encode(text)


@settings(max_examples=100, deadline=None)
@given(_TEXTS)
def test_char_tokenizer_encodes_identically(text: str) -> None:
    tok = CharTokenizer()
    assert ChunkedEncoder(tok).encode(text) == tok.encode(text)


_TOKENIZER = []


def _tokenizer():  # noqa: ANN202
    # A tokenizer that learned merges of whitespace, digits and newlines (hypothesis
    # cannot take a pytest fixture).
    if not _TOKENIZER:
        texts = [
            "fi\n  do\n\techo 12 é\n\n  \r\n$x  -1\n" * 20,
            "#!/bin/bash\nfor i in 1 2; do\n  echo $i\ndone\n" * 20,
        ]
        _TOKENIZER.append(train_tokenizer(texts, vocab_size=400, min_frequency=1))
    return _TOKENIZER[0]
