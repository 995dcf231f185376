"""LSP positions and text windows, as pure functions of strings.

An LSP position is (line, character) where lines end at "\\n", "\\r\\n" or
"\\r", and `character` counts code units of the negotiated position encoding
("utf-16" by default, "utf-8" or "utf-32" when the client prefers them).
This module turns positions into Python string indices and back, splits a
document at a cursor, applies incremental edits, and cuts the text around a
cursor down to a window whose start moves only in large steps (so the model's
prompt, and the KV cache built on it, stays the same while the user types).

It knows nothing of pygls or the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"
ENCODINGS = (UTF8, UTF16, UTF32)

_CODEC = {UTF8: "utf-8", UTF16: "utf-16-le"}
_UNIT_BYTES = {UTF8: 1, UTF16: 2}
_BREAK = re.compile(r"\r\n|\r|\n")
_WORD_TAIL = re.compile(r"\w*\Z")


@dataclass(frozen=True)
class Pos:
    """A zero-based LSP position (line, character in code units of some encoding)."""

    line: int
    character: int


def units(char: str, encoding: str = UTF16) -> int:
    """Code units one character takes in `encoding`."""
    code = ord(char)
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 2 if code >= 0x10000 else 1


def units_len(text: str, encoding: str = UTF16) -> int:
    """Length of `text` in code units."""
    if text.isascii() or encoding == UTF32:
        return len(text)
    try:  # the codec counts in C: a 200 KB line of accented text in ~1 ms, not ~50
        return len(text.encode(_CODEC[encoding])) // _UNIT_BYTES[encoding]
    except UnicodeEncodeError:  # a lone surrogate: count it as the specification's one unit
        return sum(units(c, encoding) for c in text)


def index_in_line(line: str, character: int, encoding: str = UTF16) -> int:
    """String index in `line` (no line break) for an LSP character offset.

    Offsets past the end of the line mean its end (as the LSP specification
    says); an offset inside a character (half a surrogate pair, part of a
    UTF-8 sequence) rounds down to the character's start; negative means 0.
    """
    if character <= 0:
        return 0
    if line.isascii() or encoding == UTF32:
        return min(character, len(line))
    try:
        data = line.encode(_CODEC[encoding])
    except UnicodeEncodeError:  # a lone surrogate: walk the characters
        data = None
    if data is not None:
        # The characters whose units all fit before the offset; a cut inside one drops it (rounds down).
        return len(data[: character * _UNIT_BYTES[encoding]].decode(_CODEC[encoding], errors="ignore"))
    count = 0
    for i, char in enumerate(line):
        count += units(char, encoding)
        if count > character:
            return i
    return len(line)


def line_bounds(text: str, line: int, hint: tuple[int, int] = (0, 0)) -> tuple[int, int] | None:
    """(start, end) indices of line `line`'s content, without its break; None past the last line.

    The line after a final line break exists and is empty (the cursor can sit there).
    `hint` is a known (line, start index) at or before `line`, from an earlier lookup in
    the same text: typing stays on a line or two, so the scan starts there instead of at
    the top of a 5 MB file.
    """
    if line < 0:
        return None
    hint_line, start = hint if 0 <= hint[0] <= line else (0, 0)
    skip = line - hint_line
    if "\r" not in text:
        if skip > 64:  # far from the hint: split runs in C, ~10x a loop of find()
            parts = text.split("\n", line)
            if len(parts) <= line:
                return None
            start = len(text) - len(parts[-1])
        else:
            for _ in range(skip):
                nl = text.find("\n", start)
                if nl < 0:
                    return None
                start = nl + 1
        nl = text.find("\n", start)
        return start, nl if nl >= 0 else len(text)
    breaks = _BREAK.finditer(text, start)
    for _ in range(skip):
        found = next(breaks, None)
        if found is None:
            return None
        start = found.end()
    found = _BREAK.search(text, start)
    return start, found.start() if found else len(text)


def offset_at(text: str, pos: Pos, encoding: str = UTF16, hint: tuple[int, int] = (0, 0)) -> int | None:
    """String index of an LSP position in `text`, or None when the line does not exist.

    A character past the end of its line means the end of that line. `hint`: see `line_bounds`.
    """
    bounds = line_bounds(text, pos.line, hint)
    if bounds is None:
        return None
    start, end = bounds
    return start + index_in_line(text[start:end], pos.character, encoding)


def position_at(text: str, offset: int, encoding: str = UTF16) -> Pos:
    """The LSP position of string index `offset` (clamped to the text).

    An index between the "\\r" and "\\n" of a line break means the end of that line.
    """
    offset = max(0, min(offset, len(text)))
    if "\r" not in text:
        start = text.rfind("\n", 0, offset) + 1
        return Pos(text.count("\n", 0, offset), units_len(text[start:offset], encoding))
    line, start = 0, 0
    for found in _BREAK.finditer(text):
        if found.start() >= offset:
            break
        if found.end() > offset:
            offset = found.start()
            break
        line, start = line + 1, found.end()
    return Pos(line, units_len(text[start:offset], encoding))


def split_at(text: str, pos: Pos, encoding: str = UTF16) -> tuple[str, str] | None:
    """(text before the cursor, text after it), or None when the position's line does not exist."""
    offset = offset_at(text, pos, encoding)
    if offset is None:
        return None
    return text[:offset], text[offset:]


def apply_change(text: str, start: Pos, end: Pos, new_text: str, encoding: str = UTF16) -> str:
    """`text` with the range start..end replaced by `new_text` (an incremental didChange).

    Lines past the end clamp to the end of the text, as editors expect.
    """
    a = offset_at(text, start, encoding)
    b = offset_at(text, end, encoding)
    a = len(text) if a is None else a
    b = len(text) if b is None else b
    if b < a:
        a, b = b, a
    return text[:a] + new_text + text[b:]


def word_before(prefix: str) -> str:
    """The identifier characters just before the cursor (what a completion menu filters on)."""
    match = _WORD_TAIL.search(prefix[-200:])
    return match.group(0) if match else ""
