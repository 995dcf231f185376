"""The one error handler every command uses: a BashcoderError is one line on stderr and exit status 1."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from bashcoder.engine.errors import BashcoderError


def reports_errors(
    fn: Callable[..., Any] | None = None, *, interrupted: str = "interrupted"
) -> Callable[..., Any]:
    """Turn BashcoderError into `error: <message>` and exit status 1; Ctrl-C into `interrupted` and 130.

    Used bare (`@reports_errors`) or with the line Ctrl-C prints
    (`@reports_errors(interrupted="interrupted: --out was left as it was")`).
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return command(*args, **kwargs)
            except BashcoderError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(1)
            except KeyboardInterrupt:
                click.echo(interrupted, err=True)
                sys.exit(130)

        return wrapper

    return decorate(fn) if fn is not None else decorate
