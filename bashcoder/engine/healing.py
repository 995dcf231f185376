"""Token healing: complete a word the cursor sits inside as the model learned to write it.

An editor asks for a completion after every keystroke, so the text before the
cursor usually ends inside a word: `# ba|`. Its last token is then `ba`, a
split the model never saw in training (it saw ` backup`), and it answers the
rare split with noise, most often by ending the line (on the shipped tiny,
44% of the keystrokes of a script typed through the server got no
suggestion; 18% with healing). Healing backs the prompt
up by that last token and makes the model's first tokens spell it again:
every token it may pick must start with the removed bytes, or be a prefix of
them. What it writes past them is the completion.

Pure lookups over the vocabulary's bytes; the generator applies the masks.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache

from bashcoder.engine.tokenizer import BpeTokenizer, Tokenizer


@lru_cache(maxsize=1)
def _unicode_to_byte() -> dict[str, int]:
    """Inverse of GPT-2's byte-to-unicode table, which byte-level BPE vocabularies are written in."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


def token_bytes(tokenizer: Tokenizer) -> list[bytes]:
    """The bytes each id stands for; b"" for the special tokens."""
    special = tokenizer.special_ids
    out: list[bytes] = []
    if not isinstance(tokenizer, BpeTokenizer):  # the char tokenizer: id = byte
        return [b"" if i in special or i > 255 else bytes([i]) for i in range(tokenizer.vocab_size)]
    table = _unicode_to_byte()
    for i in range(tokenizer.vocab_size):
        piece = tokenizer.id_to_token(i)
        if i in special or piece is None or any(ch not in table for ch in piece):
            out.append(b"")
        else:
            out.append(bytes(table[ch] for ch in piece))
    return out


@dataclass(frozen=True)
class Healing:
    """Text backed out of the prompt, which the completion must start by writing again."""

    text: str
    """The removed token's text (the part of the word before the cursor it held)."""
    data: bytes
    """The same, as UTF-8 bytes (what tokens are matched against)."""


class Vocabulary:
    """Which ids may come next while some bytes of a healed token are still to be written."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.bytes = token_bytes(tokenizer)
        pairs = sorted((b, i) for i, b in enumerate(self.bytes) if b)
        self._sorted = [b for b, _ in pairs]
        self._ids = [i for _, i in pairs]
        self._by_bytes = {b: i for b, i in pairs}

    def healing(self, token_id: int) -> Healing | None:
        """The healing for a prompt ending in `token_id`, or None when it cannot be healed."""
        data = self.bytes[token_id] if 0 <= token_id < len(self.bytes) else b""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # half a character: nothing to spell out as text
            return None
        # Trailing whitespace is healed too: `echo |` ends in " ", which training
        # text always joins to the word after it (" foo").
        return Healing(text, data) if text else None

    @lru_cache(maxsize=4096)  # noqa: B019 - one Vocabulary per loaded model, for the process's life
    def allowed(self, pending: bytes) -> tuple[int, ...]:
        """Ids whose bytes start with `pending`, or are a non-empty prefix of it."""
        lo = bisect.bisect_left(self._sorted, pending)
        hi = lo
        while hi < len(self._sorted) and self._sorted[hi].startswith(pending):
            hi += 1
        longer = self._ids[lo:hi]
        shorter = [
            self._by_bytes[pending[:n]] for n in range(1, len(pending)) if pending[:n] in self._by_bytes
        ]
        return tuple(sorted({*longer, *shorter}))

    def advance(self, pending: bytes, token_id: int) -> bytes:
        """What is left to write after `token_id` was chosen among `allowed(pending)`."""
        data = self.bytes[token_id]
        return pending[len(data) :] if pending.startswith(data) else b""
