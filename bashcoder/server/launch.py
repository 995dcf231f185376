"""Starting the language server process: address parsing, logging, and a protocol-only stdout.

stdout belongs to the protocol: the server writes LSP messages to a private
copy of file descriptor 1, and fd 1 itself is pointed at stderr, so a stray
print from any library lands in the log instead of corrupting the stream.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import BinaryIO

from bashcoder.engine.errors import BashcoderError

NO_PREFIX_CACHE_ENV = "BASHCODER_NO_PREFIX_CACHE"


def parse_host_port(value: str) -> tuple[str, int]:
    """Parse "HOST:PORT" (IPv6 in brackets) into (host, port), or raise a one-line error."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BashcoderError(f"--tcp {value!r} is not HOST:PORT; use e.g. --tcp 127.0.0.1:2087.")
    return host, int(port)


def setup_logging(log_file: str | None, verbose: int) -> None:
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # pygls logs every message it sends at INFO (a whole document on didOpen): only at -vv.
    logging.getLogger("pygls").setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)


def protocol_stdout() -> BinaryIO:
    """A private handle on the real stdout for LSP messages; fd 1 then goes to stderr."""
    sys.stdout.flush()
    private = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return private
