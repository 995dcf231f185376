"""`bashcoder-lsp`: start the language server over stdio (default) or TCP.

The server (torch, pygls) is imported only once the options are checked, so
`--help` and a bad option answer at once. stdout belongs to the protocol: the server writes LSP messages to a private
copy of file descriptor 1, and fd 1 itself is pointed at stderr, so a stray
print from any library lands in the log instead of corrupting the stream.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import BinaryIO

import click

from bashcoder.cli import reports_errors
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


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--model",
    type=click.Path(),
    default=None,
    help="Model directory when the editor's settings name none (default: $BASHCODER_MODEL, then the shipped model).",
)
@click.option(
    "--device",
    default=None,
    help="cuda, mps or cpu when the editor's settings name none (default: $BASHCODER_DEVICE, then the best available).",
)
@click.option("--tcp", metavar="HOST:PORT", default=None, help="Listen on TCP instead of talking over stdio.")
@click.option(
    "--log-file", type=click.Path(dir_okay=False), default=None, help="Write the log here instead of stderr."
)
@click.option(
    "--no-prefix-cache",
    is_flag=True,
    envvar=NO_PREFIX_CACHE_ENV,
    help=f"Prefill every prompt from scratch (only to measure what the KV cache saves; also ${NO_PREFIX_CACHE_ENV}=1).",
)
@click.option("-v", "--verbose", count=True, help="Debug logging; -vv adds every LSP message pygls sends.")
@reports_errors
def command(
    model: str | None,
    device: str | None,
    tcp: str | None,
    log_file: str | None,
    no_prefix_cache: bool,
    verbose: int,
) -> None:
    """Language server with ghost-text and menu completions for bash (VS Code, Neovim)."""
    address = parse_host_port(tcp) if tcp else None
    setup_logging(log_file, verbose)
    # torch and pygls load only now, after the options are checked.
    from bashcoder.server.server import ServerOptions, build_server

    server = build_server(ServerOptions(model=model, device=device, reuse_prefix_cache=not no_prefix_cache))
    if address is not None:
        server.start_tcp(*address)
    else:
        server.start_io(sys.stdin.buffer, protocol_stdout())
