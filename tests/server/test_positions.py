"""LSP positions become the right string indices in every encoding, and windows stay put while typing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bashcoder.engine.windows import head_chars, tail_chars
from bashcoder.server.positions import (
    ENCODINGS,
    UTF8,
    UTF16,
    UTF32,
    Pos,
    apply_change,
    index_in_line,
    line_bounds,
    offset_at,
    position_at,
    split_at,
    units,
    units_len,
    word_before,
)

EMOJI = "\U0001f600"  # 2 UTF-16 units, 4 UTF-8 bytes


def test_ascii_offsets_are_plain_indices() -> None:
    text = "#!/bin/bash\necho hi\n"
    assert offset_at(text, Pos(1, 5)) == text.index("hi")
    assert split_at(text, Pos(1, 5)) == ("#!/bin/bash\necho ", "hi\n")


@pytest.mark.parametrize(
    ("encoding", "units_before_x"),
    [(UTF16, 1 + 2 + 1), (UTF8, 2 + 4 + 1), (UTF32, 1 + 1 + 1)],
)
def test_non_ascii_counts_code_units_of_the_negotiated_encoding(encoding: str, units_before_x: int) -> None:
    line = f"é{EMOJI} x"
    text = f"a\n{line}\n"
    assert offset_at(text, Pos(1, units_before_x), encoding) == text.index("x")
    assert position_at(text, text.index("x"), encoding) == Pos(1, units_before_x)
    assert units_len(line, encoding) == units_before_x + 1


def test_an_offset_inside_a_surrogate_pair_rounds_down() -> None:
    assert index_in_line(f"a{EMOJI}b", 2, UTF16) == 1
    assert index_in_line(f"a{EMOJI}b", 3, UTF16) == 2


def test_a_character_past_the_end_of_a_line_means_its_end() -> None:
    text = "echo\nls -la\n"
    assert offset_at(text, Pos(0, 99)) == 4
    assert offset_at(text, Pos(0, -3)) == 0


def test_a_line_past_the_end_does_not_exist_but_the_line_after_a_final_break_does() -> None:
    text = "echo\nls\n"
    assert offset_at(text, Pos(2, 0)) == len(text)
    assert offset_at(text, Pos(3, 0)) is None
    assert split_at(text, Pos(7, 0)) is None
    assert line_bounds("", 0) == (0, 0)
    assert line_bounds("x", -1) is None


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_every_lsp_line_break_ends_a_line(newline: str) -> None:
    text = newline.join(["#!/bin/sh", "echo a", "echo b"])
    assert offset_at(text, Pos(2, 5)) == text.rindex("b")
    assert offset_at(text, Pos(1, 99)) == text.index("a") + 1  # before the break, never inside "\r\n"
    assert position_at(text, text.rindex("b")) == Pos(2, 5)


def test_between_cr_and_lf_is_the_end_of_the_line() -> None:
    text = "ab\r\ncd"
    assert position_at(text, 3) == Pos(0, 2)


def test_position_and_offset_round_trip() -> None:
    text = f"#!/bin/bash\r\nname='{EMOJI}é'\n\necho \"$name\"\rdone"
    for offset in range(len(text) + 1):
        if text[offset - 1 : offset + 1] == "\r\n":
            continue
        for enc in (UTF8, UTF16, UTF32):
            assert offset_at(text, position_at(text, offset, enc), enc) == offset


def test_incremental_changes_replace_their_range() -> None:
    text = "echo hi\nls\n"
    assert apply_change(text, Pos(0, 5), Pos(0, 7), "there") == "echo there\nls\n"
    assert apply_change(text, Pos(1, 2), Pos(1, 2), " -la") == "echo hi\nls -la\n"
    assert apply_change(text, Pos(0, 4), Pos(1, 0), "\n") == "echo\nls\n"
    assert apply_change(text, Pos(9, 0), Pos(9, 0), "pwd\n") == text + "pwd\n"  # past the end appends
    assert apply_change(f"{EMOJI}x", Pos(0, 2), Pos(0, 3), "y") == f"{EMOJI}y"


def test_word_before_the_cursor() -> None:
    assert word_before("for f in *.tx") == "tx"
    assert word_before("echo $HO") == "HO"
    assert word_before("echo ") == ""
    assert word_before("") == ""


def test_the_prefix_window_starts_at_a_line_and_stays_put_while_typing() -> None:
    doc = "".join(f"echo line {i}\n" for i in range(2000))
    limit = 4000
    starts = set()
    for extra in range(0, 300, 7):  # the user types 300 characters at the end
        prefix = doc + "x" * extra
        window = tail_chars(prefix, limit)
        assert len(window) <= limit
        assert prefix.endswith(window)
        start = len(prefix) - len(window)
        assert prefix[start - 1] == "\n"
        starts.add(start)
    assert len(starts) <= 2


def test_short_texts_are_not_windowed() -> None:
    assert tail_chars("echo hi\n", 100) == "echo hi\n"
    assert head_chars("done\n", 100) == "done\n"


def test_the_suffix_window_ends_at_a_line_end() -> None:
    suffix = "done\n" * 100
    window = head_chars(suffix, 52)
    assert window == "done\n" * 10
    assert head_chars("x" * 100, 10) == "x" * 10


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_hint_from_an_earlier_lookup_gives_the_same_answer(newline: str) -> None:
    text = newline.join(f"echo {i}" for i in range(300))
    for hint_line in (0, 5, 100, 250):
        hint = (hint_line, line_bounds(text, hint_line)[0])  # type: ignore[index]
        for line in (hint_line, hint_line + 1, hint_line + 70, 299, 300, 0):
            assert line_bounds(text, line, hint) == line_bounds(text, line)


def _walked(line: str, character: int, encoding: str) -> int:
    """index_in_line from the specification's definition: the first character whose units, counted
    from the line start, pass the offset (the line's end when none does)."""
    ends = [sum(units(c, encoding) for c in line[: i + 1]) for i in range(len(line))]
    return next((i for i, end in enumerate(ends) if end > character), len(line))


@given(st.text(alphabet=st.sampled_from("ab é日🎉\t\"'$"), max_size=40), st.integers(-2, 120))
@settings(max_examples=300, deadline=None)
def test_counting_in_the_codec_agrees_with_walking_the_characters(line: str, character: int) -> None:
    for encoding in ENCODINGS:
        assert index_in_line(line, character, encoding) == (
            _walked(line, character, encoding) if character > 0 else 0
        )
        assert units_len(line, encoding) == sum(units(c, encoding) for c in line)


def test_a_lone_surrogate_from_a_client_is_counted_too() -> None:
    line = "x\ud800y é"  # not encodable: the walk is used
    assert index_in_line(line, 3, "utf-16") == 3 and units_len(line, "utf-8") == 1 + 3 + 1 + 1 + 2
