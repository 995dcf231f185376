"""The one error handler every command uses: a BashcoderError is one line on stderr and exit status 1."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from bashcoder.engine.errors import BashcoderError


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the exit's flush of what could not be written fails no more."""
    try:
        sys.stdout.flush()
    except OSError:
        pass
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test runner's capture)
        pass


def reports_errors(
    fn: Callable[..., Any] | None = None, *, interrupted: str = "interrupted", needs_stdout: bool = True
) -> Callable[..., Any]:
    """Turn BashcoderError into `error: <message>` and exit status 1; Ctrl-C into `interrupted` and 130;
    an OSError (a full disk, an output that cannot be written) into one line and 1. A closed stdout
    is one error line and 1 unless the command does not need it (`needs_stdout=False`, which then
    checks for itself); a closed stdin reads as empty.

    Used bare (`@reports_errors`) or with the line Ctrl-C prints
    (`@reports_errors(interrupted="interrupted: --out was left as it was")`).
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if sys.stdout is None and needs_stdout:  # `>&-`: click.echo would drop every line, exit 0
                click.echo(
                    "error: stdout is closed, so nothing could be printed; run it with stdout open.", err=True
                )
                sys.exit(1)
            if sys.stdin is None:  # `<&-`: read as an empty stdin, so each command says what it lacks
                sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - for the process's life
            try:
                return command(*args, **kwargs)
            except BashcoderError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(1)
            except KeyboardInterrupt:
                click.echo(interrupted, err=True)
                sys.exit(130)
            except BrokenPipeError:
                raise  # the reader went away (`| head`): Python's own quiet handling applies
            except OSError as exc:  # a full disk, a folder that vanished: what and where, in one line
                where = f" ({exc.filename})" if exc.filename else ""
                click.echo(f"error: {exc.strerror or exc}{where}.", err=True)
                _quiet_stdout()
                sys.exit(1)

        return wrapper

    return decorate(fn) if fn is not None else decorate
