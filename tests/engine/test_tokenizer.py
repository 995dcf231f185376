from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.tokenizer import (
    SPECIAL_TOKENS,
    BpeTokenizer,
    CharTokenizer,
    load_tokenizer,
    train_tokenizer,
)

AWKWARD = [
    "\tindented\twith\ttabs\n",
    "windows\r\nline\r\nendings\r\n",
    "cat <<'EOF'\n  $HOME stays literal\n\tEOF\nEOF\n",
    "echo 'héllo wörld' こんにちは 🚀\n",
    "   leading and trailing spaces   \n\n\n",
    "x=12345678901234567890; echo $((x*2))",
    "",
    "\x00\x01 control \x7f",
]


@pytest.mark.parametrize("text", AWKWARD)
def test_bpe_round_trips_awkward_bash(bpe_tokenizer: BpeTokenizer, text: str) -> None:
    assert bpe_tokenizer.decode(bpe_tokenizer.encode(text)) == text


@pytest.mark.parametrize("text", AWKWARD)
def test_char_round_trips_awkward_bash(text: str) -> None:
    tok = CharTokenizer()
    assert tok.decode(tok.encode(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_bpe_round_trips_any_text(bpe_tokenizer: BpeTokenizer, text: str) -> None:
    assert bpe_tokenizer.decode(bpe_tokenizer.encode(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"])))
def test_char_round_trips_any_text(text: str) -> None:
    tok = CharTokenizer()
    assert tok.decode(tok.encode(text)) == text


def test_fixture_scripts_round_trip(bpe_tokenizer: BpeTokenizer, scripts: list[str]) -> None:
    for text in scripts:
        assert bpe_tokenizer.decode(bpe_tokenizer.encode(text)) == text


def test_specials_are_single_tokens_with_stable_ids(bpe_tokenizer: BpeTokenizer) -> None:
    for i, special in enumerate(SPECIAL_TOKENS):
        assert bpe_tokenizer.token_id(special) == i
        assert bpe_tokenizer.encode(special) == [i]
    assert len(bpe_tokenizer.special_ids) == 5


def test_digits_are_split(bpe_tokenizer: BpeTokenizer) -> None:
    pieces = [bpe_tokenizer.decode([i]) for i in bpe_tokenizer.encode("sleep 2025")]
    assert pieces[-4:] == ["2", "0", "2", "5"]


def test_bpe_learns_bash_words(bpe_tokenizer: BpeTokenizer) -> None:
    # Trained on bash, common keywords become one token each.
    assert len(bpe_tokenizer.encode("echo")) == 1
    assert len(bpe_tokenizer.encode("done")) == 1


def test_vocab_size_is_what_was_asked(scripts: list[str]) -> None:
    assert train_tokenizer(scripts * 4, vocab_size=400).vocab_size == 400


def test_too_small_vocab_is_a_clear_error(scripts: list[str]) -> None:
    with pytest.raises(BashcoderError, match="vocabulary size"):
        train_tokenizer(scripts, vocab_size=100)


@pytest.mark.parametrize("make", [lambda: None, lambda: CharTokenizer()])
def test_save_and_load_round_trip(tmp_path: Path, bpe_tokenizer: BpeTokenizer, make) -> None:  # noqa: ANN001
    tok = make() or bpe_tokenizer
    tok.save(tmp_path / "tokenizer.json")
    loaded = load_tokenizer(tmp_path / "tokenizer.json")
    assert loaded.kind == tok.kind
    assert loaded.vocab_size == tok.vocab_size
    text = 'for f in *.sh; do\n\tbash -n "$f"\ndone\n'
    assert loaded.encode(text) == tok.encode(text)


def test_corrupt_tokenizer_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text("{not json")
    with pytest.raises(BashcoderError, match="not valid JSON") as err:
        load_tokenizer(tmp_path / "tokenizer.json")
    assert "\n" not in str(err.value)
