"""The one exception type users see.

A `BashcoderError` message is a single line that says what is wrong and how to
fix it; commands print it and exit non-zero, the LSP server logs it and answers
nothing. Everything else escaping is a bug.
"""

from __future__ import annotations


class BashcoderError(Exception):
    """A user-facing problem with a one-line message naming the fix."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split("\n")))
