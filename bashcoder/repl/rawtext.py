"""Text that is not valid UTF-8: kept byte for byte for bash, made safe for the model.

Terminals, pipes, file names and history files can carry bytes that are not
UTF-8 (`caf\\xe9` from a Latin-1 file). Python reads them as lone surrogates
(`surrogateescape`): bash gets the very bytes back when the text is run or
printed, but the tokenizer refuses such a string. `for_model` replaces each
lone surrogate with U+FFFD, one character for one, so every offset into the
input stays valid for the suggestion that comes back.
"""

from __future__ import annotations

import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def for_model(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD (same length), safe for any tokenizer."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def decode(raw: bytes) -> str:
    """Bytes from a pipe or file as text; bytes that are not UTF-8 survive as lone surrogates."""
    return raw.decode("utf-8", errors="surrogateescape")


def encode(text: str) -> bytes:
    """Text back to bytes: what `decode` read comes out byte for byte; other lone surrogates become '?'."""
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate outside the escape range (U+DC80-U+DCFF)
        return _LONE_SURROGATE.sub(
            lambda m: m.group(0) if "\udc80" <= m.group(0) <= "\udcff" else "?", text
        ).encode("utf-8", errors="surrogateescape")
