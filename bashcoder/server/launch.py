"""Starting the language server process: address parsing, logging, and a protocol-only stdout.

stdout belongs to the protocol: the server writes LSP messages to a private
copy of file descriptor 1, and fd 1 itself is pointed at stderr, so a stray
print from any library lands in the log instead of corrupting the stream.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from typing import BinaryIO

from bashcoder.engine.errors import BashcoderError

NO_PREFIX_CACHE_ENV = "BASHCODER_NO_PREFIX_CACHE"


def parse_host_port(value: str) -> tuple[str, int]:
    """Parse "HOST:PORT" (IPv6 in brackets) into (host, port), or raise a one-line error."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit():
        raise BashcoderError(f"--tcp {value!r} is not HOST:PORT; use e.g. --tcp 127.0.0.1:2087.")
    if not 0 < int(port) < 65536:
        raise BashcoderError(
            f"--tcp {value!r}: port {int(port)} is out of range; use a port from 1 to 65535."
        )
    return host, int(port)


def check_listen(host: str, port: int) -> None:
    """BashcoderError unless a TCP server can listen on (host, port): an unknown host or a port in use
    is one line before the model loads, not a traceback after it. Binds and closes a probe socket
    (SO_REUSEADDR, as asyncio's server sets it on POSIX)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, addr = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(addr)
            probe.listen(1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise BashcoderError(
            f"--tcp {host}:{port}: cannot listen there ({reason}); choose a free port or another address."
        ) from exc


def setup_logging(log_file: str | None, verbose: int) -> None:
    """Log to `log_file` (appended) or stderr; BashcoderError when the file cannot be opened."""
    try:
        handler: logging.Handler = (
            logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler(sys.stderr)
        )
    except OSError as exc:
        raise BashcoderError(
            f"--log-file {log_file}: cannot write it ({exc.strerror}); choose a file in a writable folder."
        ) from exc
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
