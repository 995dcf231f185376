"""Suggestions as LSP items: ghost text and completion-menu entries (pure).

Inline items insert their text at the cursor. Menu items replace the shell
word before the cursor (`-c` in `tar -c`, `./run.s`, `$HO`: everything back to
a blank, a quote or one of `|&;()<>`) with that word plus the suggestion,
because editors filter a menu by the word being typed: VS Code by the text in
the edit's range, Neovim and eglot by `filterText`. A smaller word breaks
them: at `tar -c` an item replacing only `c` is filtered out by eglot, which
takes `-c` as the word. The label is the first line, the whole text goes in
the textEdit.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types as lsp

from bashcoder.engine.completer import Suggestion
from bashcoder.server.positions import UTF16, Pos, units_len

SOURCE = "bashcoder"
LABEL_CHARS = 80
WORD_BREAKS = frozenset(" \t\r\n\f\v|&;()<>\"'`")
"""Characters that end a shell word: bash's metacharacters and the quotes (as readline's word breaks).
clients/emacs/bashcoder.el gives eglot the same words; keep the two in step."""
WORD_CHARS = 200
"""The longest word looked at; longer runs of word characters are cut (a menu never filters that far)."""


def cursor_position(line: int, prefix: str, encoding: str = UTF16) -> Pos:
    """The cursor's position as the text before it says (a client's past-the-end character clamped)."""
    start = max(prefix.rfind("\n"), prefix.rfind("\r")) + 1
    return Pos(line, units_len(prefix[start:], encoding))


def label_for(text: str) -> str:
    """The first non-blank line of `text`, shortened for a menu."""
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), text.strip())
    return first if len(first) <= LABEL_CHARS else first[: LABEL_CHARS - 1] + "…"


def shell_word_before(before: str) -> str:
    """The shell word that ends at the cursor, given (the end of) the text before it."""
    start = len(before)
    stop = max(0, start - WORD_CHARS)
    while start > stop and before[start - 1] not in WORD_BREAKS:
        start -= 1
    return before[start:]


def _range(start: Pos, end: Pos) -> lsp.Range:
    return lsp.Range(lsp.Position(start.line, start.character), lsp.Position(end.line, end.character))


def inline_items(suggestions: Sequence[Suggestion], cursor: Pos) -> list[lsp.InlineCompletionItem]:
    """Ghost-text items inserting each suggestion at the cursor, best first."""
    here = _range(cursor, cursor)
    return [lsp.InlineCompletionItem(insert_text=s.text, range=here) for s in suggestions]


def completion_items(
    suggestions: Sequence[Suggestion],
    cursor: Pos,
    before: str,
    encoding: str = UTF16,
    markdown: bool = True,
) -> list[lsp.CompletionItem]:
    """Menu items, best first, each replacing the shell word before the cursor with word + suggestion.

    `before` is the text before the cursor (its end is enough): the word is `shell_word_before(before)`.
    A multi-line item carries its text as documentation: a bash code block where the client reads
    markdown (`markdown`, from its completionItem.documentationFormat), plain text elsewhere.
    """
    word = shell_word_before(before)
    start = Pos(cursor.line, cursor.character - units_len(word, encoding))
    edit_range = _range(start, cursor)
    items = []
    for rank, s in enumerate(suggestions):
        text = word + s.text
        multi_line = "\n" in s.text.strip("\n")
        items.append(
            lsp.CompletionItem(
                label=label_for(text),
                kind=lsp.CompletionItemKind.Text,
                detail=SOURCE,
                documentation=(
                    lsp.MarkupContent(lsp.MarkupKind.Markdown, f"```bash\n{text}\n```")
                    if markdown
                    else lsp.MarkupContent(lsp.MarkupKind.PlainText, text)
                )
                if multi_line
                else None,
                sort_text=f"{rank:04d}",
                filter_text=text,
                preselect=rank == 0,
                insert_text_format=lsp.InsertTextFormat.PlainText,
                text_edit=lsp.TextEdit(range=edit_range, new_text=text),
            )
        )
    return items
