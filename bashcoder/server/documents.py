"""The open documents, as the client sent them.

The server keeps its own copy of each open document (rather than pygls'
workspace) so that line breaks and position encodings follow the LSP rules in
`positions` exactly. A `Cursor` is a document cut at a position: the text the
model sees before and after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bashcoder.server.positions import UTF16, Pos, index_in_line, line_bounds, word_before
from bashcoder.server.shell import is_shell

Change = tuple[Pos, Pos, str] | str
"""An incremental change (start, end, new text) or a whole new text."""


@dataclass
class Document:
    uri: str
    text: str
    language_id: str | None = None
    version: int | None = None
    anchor: tuple[int, int] = (0, 0)
    """A (line, start index) of `text` from the last lookup: lookups near the cursor start there."""

    @property
    def is_shell(self) -> bool:
        return is_shell(self.language_id, self.text)

    def locate(self, pos: Pos, encoding: str = UTF16) -> tuple[int, int] | None:
        """(index of the position, index of its line's start), or None when the line does not exist."""
        bounds = line_bounds(self.text, pos.line, self.anchor)
        if bounds is None:
            return None
        start, end = bounds
        self.anchor = (pos.line, start)
        return start + index_in_line(self.text[start:end], pos.character, encoding), start

    def replace(self, start: Pos, end: Pos, new_text: str, encoding: str = UTF16) -> None:
        """Apply one incremental change; positions past the end clamp to the end."""
        first, last = self.locate(start, encoding), self.locate(end, encoding)
        a = first[0] if first else len(self.text)
        b = last[0] if last else len(self.text)
        if b < a:
            a, b = b, a
            first = last
        self.text = text = self.text[:a] + new_text + self.text[b:]
        # The start line's beginning is before the edit, so it stays where it was, unless the
        # edit put a "\n" right after the "\r" that ended the line before: one "\r\n" break now.
        line_start = first[1] if first else 0
        merged = text.startswith("\n", line_start) and text[line_start - 1 : line_start] == "\r"
        self.anchor = (min(start.line, end.line), line_start) if first and not merged else (0, 0)


@dataclass(frozen=True)
class Cursor:
    """A position in a document, split into the text before and after it."""

    uri: str
    pos: Pos
    prefix: str
    suffix: str

    @property
    def word(self) -> str:
        """Identifier characters just before the cursor."""
        return word_before(self.prefix)


class Documents:
    """Open documents by URI; changes apply in the negotiated position encoding."""

    def __init__(self) -> None:
        self._docs: dict[str, Document] = {}

    def __len__(self) -> int:
        return len(self._docs)

    def open(
        self, uri: str, text: str, language_id: str | None = None, version: int | None = None
    ) -> Document:
        doc = Document(uri, text, language_id, version)
        self._docs[uri] = doc
        return doc

    def change(
        self, uri: str, changes: Iterable[Change], version: int | None = None, encoding: str = UTF16
    ) -> Document | None:
        """Apply didChange events in order; None for a document that was never opened."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        for change in changes:
            if isinstance(change, str):
                doc.text, doc.anchor = change, (0, 0)
            else:
                doc.replace(*change, encoding=encoding)
        doc.version = version
        return doc

    def close(self, uri: str) -> None:
        self._docs.pop(uri, None)

    def get(self, uri: str) -> Document | None:
        return self._docs.get(uri)

    def cursor(self, uri: str, pos: Pos, encoding: str = UTF16) -> Cursor | None:
        """The document cut at `pos`; None for an unknown document or a line past its end."""
        doc = self._docs.get(uri)
        if doc is None:
            return None
        found = doc.locate(pos, encoding)
        if found is None:
            return None
        return Cursor(uri, pos, doc.text[: found[0]], doc.text[found[0] :])
