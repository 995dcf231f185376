"""The LSP base protocol's framing, read forgivingly, in front of pygls's reader.

pygls 2 matches exactly `Content-Length: N\\r\\n` and trusts N: a header in
another case (`content-length:`, which HTTP-style headers allow), LF-only
line ends, or a length a few bytes off leave it reading bodies as headers and
it never answers again; a huge N makes it allocate N bytes. No library reads
this framing for pygls, so this module reads it and hands pygls only
canonical frames: header names in any case, `\\n` or `\\r\\n` line ends, a
length up to MAX_MESSAGE_BYTES. A frame it cannot read is logged in one line
and skipped up to the next `Content-Length` header, so the next message is
answered.
"""

from __future__ import annotations

import logging
import re
from typing import BinaryIO

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
"""Largest body accepted (a didOpen of a 256 MiB file); more is taken for a broken header."""

_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\S*)", re.IGNORECASE)
_MAX_HEADER_LINE = 64 * 1024
_HEADER_NAME = b"content-length"
_VALUE_END = re.compile(rb"[}\]][ \t\r\n]*")


class FramedReader:
    """A binary stream of LSP messages as pygls reads it (`readline()`, `read(n)`), frames made canonical.

    `raw` is the client's stream (stdin). Thread-safe use is not needed:
    pygls reads from one executor thread at a time.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._out = bytearray()
        self._back = bytearray()
        """Bytes read past a frame that belong to the next header (a length too long); read again first."""
        self._eof = False

    def readline(self) -> bytes:
        """The next canonical header line (or b"" at the end of the stream)."""
        while b"\n" not in self._out and self._fill():
            pass
        cut = self._out.find(b"\n")
        return self._take(len(self._out) if cut < 0 else cut + 1)

    def read(self, n: int) -> bytes:
        """`n` bytes of the body pygls was told about (fewer only at the end of the stream)."""
        while len(self._out) < n and self._fill():
            pass
        return self._take(min(n, len(self._out)))

    def _take(self, n: int) -> bytes:
        data = bytes(self._out[:n])
        del self._out[:n]
        return data

    def _fill(self) -> bool:
        """Append the next frame that can be read, canonical; False at the end of the stream."""
        while not self._eof:
            length = self._read_headers()
            if length is None:
                continue  # logged; look for the next header
            body = self._read_raw(length) if length else b""
            if len(body) < length:
                self._eof = True
                log.warning("the client's stream ended inside a message (%d of %d bytes)", len(body), length)
                return False
            body = self._give_back_next_header(body)
            self._out += b"Content-Length: %d\r\n\r\n" % len(body) + body
            return True
        return False

    def _give_back_next_header(self, body: bytes) -> bytes:
        """`body` less the start of the next message's header, when the length was too long.

        A JSON-RPC message ends with `}` (or `]`); a body that ends otherwise but has
        `Content-Length` (or the start of it, the next header's first bytes) right after a `}`
        or `]` was given a length a few bytes too long: those bytes are the next header, and
        they are read again so that the next message is still answered.
        """
        if body.rstrip()[-1:] in (b"}", b"]", b""):
            return body
        for end in _VALUE_END.finditer(body):
            head = body[end.end() : end.end() + len(_HEADER_NAME)].lower()
            if head and _HEADER_NAME.startswith(head):
                log.warning(
                    "a message's Content-Length was %d bytes too long; read as the next header",
                    len(body) - end.end(),
                )
                self._back[:0] = body[end.end() :]
                return body[: end.end()]
        return body

    def _readline_raw(self, limit: int) -> bytes:
        if self._back:
            cut = self._back.find(b"\n")
            if cut >= 0 or len(self._back) >= limit:
                n = min(cut + 1 if cut >= 0 else len(self._back), limit)
                line = bytes(self._back[:n])
                del self._back[:n]
                return line
            line = bytes(self._back)
            self._back.clear()
            return line + self._raw.readline(limit - len(line))
        return self._raw.readline(limit)

    def _read_raw(self, n: int) -> bytes:
        if self._back:
            head = bytes(self._back[:n])
            del self._back[:n]
            return head + (self._raw.read(n - len(head)) if n > len(head) else b"")
        return self._raw.read(n)

    def _read_headers(self) -> int | None:
        """The Content-Length of the next header block; None after logging one it cannot use."""
        length: bytes | None = None
        seen = 0
        while True:
            line = self._readline_raw(_MAX_HEADER_LINE)
            if not line:
                self._eof = True
                return None
            stripped = line.strip()
            if not stripped:
                if length is None:
                    if seen:
                        log.warning("a message header without Content-Length was skipped")
                    continue  # blank lines between messages are harmless
                break
            seen += 1
            match = _LENGTH.search(stripped)
            if match:
                length = match.group(1)  # the last one wins; text before it (a short body) is dropped
        assert length is not None  # the loop leaves only with a length
        if not length.isdigit() or int(length) > MAX_MESSAGE_BYTES:
            log.warning(
                "a message with Content-Length %r was skipped: expected a whole number up to %d",
                length[:40].decode("ascii", "replace"),
                MAX_MESSAGE_BYTES,
            )
            return None
        return int(length)
