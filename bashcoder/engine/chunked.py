"""Tokenize a prompt by memoised chunks, so a keystroke re-tokenizes one chunk, not the window.

A prompt is re-tokenized on every keystroke, and the byte-level BPE runs at
~1 MB/s here: 3-10 ms for a context window, as much as two decode steps.
Almost all of that text is unchanged since the last keystroke.

The byte-level pre-tokenizer (GPT-2's pattern, after splitting digits) always
starts a new piece at a line start that follows a non-blank character and
begins with a non-blank character (`...fi\\nfor ...`), and BPE never merges
across pieces. So the ids of the text are the concatenation of the ids of the
chunks between such points; each chunk's ids are remembered. Before a line
that starts with whitespace the rule does not hold (`\\n  ` is one piece), so
an indented block stays in the chunk of the line that opens it.

The equality is checked once per tokenizer on a probe text; a tokenizer for
which it fails (another pre-tokenizer) is simply encoded whole.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bashcoder.engine.tokenizer import Tokenizer

# A line start after a non-blank character, at a non-blank character.
_SAFE_CUT = re.compile(r"(?<=\S\n)(?=\S)")
CHUNK_MEMO_SIZE = 8192
"""Chunks remembered (a chunk is a top-level command and its indented body)."""

_PROBE = (
    '#!/bin/bash\nset -eu  \n\nx=1\t\nfor f in *; do\n  echo "$f" 12\ndone\n# é 2024\n'
    "  \nif true; then :; fi\r\nprintf '%s\\n' a\n<|endoftext|>\ncat <<EOF\n  a\nEOF\n"
)


def chunks(text: str) -> list[str]:
    """`text` cut at the line starts where the pre-tokenizer always cuts (pure)."""
    return _SAFE_CUT.split(text)


class ChunkedEncoder:
    """`encode` with the same ids as the tokenizer's, memoised chunk by chunk."""

    def __init__(self, tokenizer: Tokenizer, memo_size: int = CHUNK_MEMO_SIZE) -> None:
        self.tokenizer = tokenizer
        self._chunk = lru_cache(maxsize=memo_size)(self._encode_chunk)
        whole = tokenizer.encode(_PROBE)
        self.exact = [i for c in chunks(_PROBE) for i in tokenizer.encode(c)] == whole
        """False for a tokenizer whose pieces cross our cut points: then every text is encoded whole."""

    def _encode_chunk(self, chunk: str) -> tuple[int, ...]:
        return tuple(self.tokenizer.encode(chunk))

    def encode(self, text: str) -> list[int]:
        if not self.exact:
            return self.tokenizer.encode(text)
        out: list[int] = []
        for chunk in chunks(text):
            out.extend(self._chunk(chunk))
        return out

    def count(self, text: str) -> int:
        if not self.exact:
            return len(self.tokenizer.encode(text))
        return sum(len(self._chunk(c)) for c in chunks(text))
