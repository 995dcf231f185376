"""Suggestions become ghost text at the cursor and menu items that editors filter by the typed shell word."""

from __future__ import annotations

import pytest
from lsprotocol import types as lsp

from bashcoder.engine.completer import Suggestion
from bashcoder.server.items import (
    LABEL_CHARS,
    completion_items,
    cursor_position,
    inline_items,
    label_for,
    shell_word_before,
)
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


def test_a_client_without_markdown_gets_plain_text_documentation() -> None:
    # LSP: markdown only where completionItem.documentationFormat lists it (a fenced block shows raw).
    fenced, plain = (
        completion_items([_s("t; do\n  echo")], Pos(0, 13), "tx", markdown=markdown)[0].documentation
        for markdown in (True, False)
    )
    assert fenced == lsp.MarkupContent(lsp.MarkupKind.Markdown, "```bash\ntxt; do\n  echo\n```")
    assert plain == lsp.MarkupContent(lsp.MarkupKind.PlainText, "txt; do\n  echo")


def test_labels_are_the_first_non_blank_line_and_short() -> None:
    assert label_for("\n  echo hi\nls") == "echo hi"
    long = label_for("x" * 200)
    assert len(long) == LABEL_CHARS and long.endswith("…")


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ("tar -c", "-c"),
        ("tar --exclude", "--exclude"),
        ("./run.s", "./run.s"),
        ("cd /usr/lo", "/usr/lo"),
        ("echo $HO", "$HO"),
        ("echo ${HO", "${HO"),
        ("cp a.txt ~/b", "~/b"),
        ("make -j4 CC=gc", "CC=gc"),
        ('echo "hel', "hel"),
        ("ls|gre", "gre"),
        ("x=$(dat", "dat"),
        ("cat <in", "in"),
        ("if [[ -f", "-f"),
        ("tar -c ", ""),
        ("", ""),
    ],
)
def test_the_word_being_completed_is_the_whole_shell_word(line: str, word: str) -> None:
    assert shell_word_before("#!/bin/bash\n" + line) == word


def test_a_word_never_reaches_into_the_line_above() -> None:
    assert shell_word_before("echo a-b\n-c") == "-c"
    assert shell_word_before("echo a-b\r\n") == ""


def test_at_a_dash_option_the_item_replaces_the_whole_option_so_menus_keep_it() -> None:
    # eglot takes `-c` as the word at `tar -c|`: an item replacing only `c` is filtered out and
    # accepting it wrote `tar -c -`. The item covers `-c`, and label and filterText start with it.
    (item,) = completion_items([_s("zf out.tgz dir")], Pos(4, 6), "# archive\ntar -c")
    assert item.text_edit == lsp.TextEdit(
        lsp.Range(lsp.Position(4, 4), lsp.Position(4, 6)), "-czf out.tgz dir"
    )
    assert item.label == item.filter_text == "-czf out.tgz dir"


def test_a_path_word_is_replaced_whole_in_the_clients_position_units() -> None:
    # "é" is one UTF-16 unit and two UTF-8 bytes: the range starts where the word does in either.
    prefix = "cat ./café/no"
    here16, here8 = cursor_position(0, prefix, UTF16), cursor_position(0, prefix, UTF8)
    (item16,) = completion_items([_s("tes.md")], here16, prefix, UTF16)
    (item8,) = completion_items([_s("tes.md")], here8, prefix, UTF8)
    assert item16.text_edit is not None and item8.text_edit is not None
    assert item16.text_edit.range.start == lsp.Position(0, 4)
    assert item8.text_edit.range.start == lsp.Position(0, 4)
    assert item16.text_edit.new_text == item16.filter_text == "./café/notes.md"


def test_the_server_reads_the_documentation_formats_the_client_declares() -> None:
    from bashcoder.server.server import build_server

    server = build_server()
    for formats, markdown in (([lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText], True), ([], False)):
        item = lsp.ClientCompletionItemOptions(documentation_format=formats)
        completion = lsp.CompletionClientCapabilities(completion_item=item)
        server.protocol.client_capabilities = lsp.ClientCapabilities(
            text_document=lsp.TextDocumentClientCapabilities(completion=completion)
        )
        assert server.reads_markdown is markdown
    server.protocol.client_capabilities = lsp.ClientCapabilities()
    assert server.reads_markdown is False
