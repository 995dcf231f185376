"""Suggestions become ghost text at the cursor and menu items that editors filter by the typed word."""

from __future__ import annotations

from lsprotocol import types as lsp

from bashcoder.engine.completer import Suggestion
from bashcoder.server.items import LABEL_CHARS, completion_items, cursor_position, inline_items, label_for
from bashcoder.server.positions import UTF8, UTF16, Pos


def _s(text: str) -> Suggestion:
    return Suggestion(text=text, mean_logprob=-0.5, syntax_ok=True, mode="line")


def test_the_cursor_position_comes_from_the_text_before_it() -> None:
    assert cursor_position(3, "#!/bin/bash\necho hé", UTF16) == Pos(3, 7)
    assert cursor_position(3, "#!/bin/bash\necho hé", UTF8) == Pos(3, 8)
    assert cursor_position(0, "", UTF16) == Pos(0, 0)


def test_inline_items_insert_at_the_cursor_best_first() -> None:
    items = inline_items([_s('"$HOME"'), _s("/tmp")], Pos(2, 5))
    assert [i.insert_text for i in items] == ['"$HOME"', "/tmp"]
    assert items[0].range == lsp.Range(lsp.Position(2, 5), lsp.Position(2, 5))


def test_menu_items_replace_the_typed_word_with_word_plus_suggestion() -> None:
    items = completion_items([_s("t; do\n  echo"), _s("t")], Pos(0, 13), "tx")
    first = items[0]
    assert first.label == "txt; do"
    assert first.text_edit == lsp.TextEdit(
        lsp.Range(lsp.Position(0, 11), lsp.Position(0, 13)), "txt; do\n  echo"
    )
    assert first.filter_text == "txt; do\n  echo"
    assert first.detail == "bashcoder" and first.preselect
    assert isinstance(first.documentation, lsp.MarkupContent)  # several lines: shown in full
    assert items[1].documentation is None
    assert [i.sort_text for i in items] == ["0000", "0001"]


def test_labels_are_the_first_non_blank_line_and_short() -> None:
    assert label_for("\n  echo hi\nls") == "echo hi"
    long = label_for("x" * 200)
    assert len(long) == LABEL_CHARS and long.endswith("…")
