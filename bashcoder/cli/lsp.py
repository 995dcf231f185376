"""`bashcoder-lsp`: start the language server over stdio (default) or TCP.

`--stdio` changes nothing: vscode-languageclient and other clients append it when told the
transport is stdio, so it must not be an error.

The server (torch, pygls) is imported only once the options are checked, so
`--help` and a bad option answer at once; server/launch.py keeps stdout for
the protocol alone.
"""

from __future__ import annotations

import sys

import click

from bashcoder.cli.errors import reports_errors
from bashcoder.engine.errors import BashcoderError

# Not imported from server/launch.py: that would load the server package for --help.
NO_PREFIX_CACHE_ENV = "BASHCODER_NO_PREFIX_CACHE"


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
    "--stdio",
    is_flag=True,
    help="Talk over stdin/stdout (the default; accepted because language clients may add it).",
)
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
@reports_errors(needs_stdout=False)  # --tcp talks over its socket; stdio mode checks below
def main(
    model: str | None,
    device: str | None,
    tcp: str | None,
    stdio: bool,
    log_file: str | None,
    no_prefix_cache: bool,
    verbose: int,
) -> None:
    """Language server with ghost-text and menu completions for bash (VS Code, Neovim, Emacs)."""
    from bashcoder.server.launch import check_listen, parse_host_port, protocol_stdout, setup_logging

    if stdio and tcp:
        raise BashcoderError(f"--stdio and --tcp {tcp} ask for two transports; choose one.")
    if not tcp and sys.stdout is None:
        raise BashcoderError(
            "stdout is closed, and the protocol's answers go there; run it with stdout open."
        )
    address = parse_host_port(tcp) if tcp else None
    if address is not None:
        check_listen(*address)
    setup_logging(log_file, verbose)
    # torch and pygls load only now, after the options are checked.
    from bashcoder.server.server import ServerOptions, build_server

    server = build_server(ServerOptions(model=model, device=device, reuse_prefix_cache=not no_prefix_cache))
    if address is not None:
        server.start_tcp(*address)
    else:
        from bashcoder.server.framing import FramedReader

        server.start_io(FramedReader(sys.stdin.buffer), protocol_stdout())  # type: ignore[arg-type]
    # pygls swallows `exit`'s status; LSP asks for 1 when no `shutdown` came first (or the
    # client's stream just ended).
    server.exit_process(0 if server.protocol._shutdown else 1)
