"""Starting the REPL: the model loads before the terminal is switched to raw mode, so a model that
fails to load prints one line and leaves the terminal as it was."""

from __future__ import annotations

import os
import sys

import click

from bashcoder.repl import rawtext
from bashcoder.repl.assistant import Assistant, load
from bashcoder.repl.config import ReplConfig


def start(config: ReplConfig, interactive: bool) -> int:
    """Load the model, then run the REPL (a terminal) or complete stdin line by line (no terminal).

    Returns the exit status: the REPL's (`exit 3` in it gives 3), 0 for stdin line by line.
    """
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)
    assistant = Assistant(load(config.model_path, config.device), config.settings)
    if not interactive:
        from bashcoder.repl.scripted import run_scripted

        # Bytes in, bytes out: a line that is not UTF-8 is completed and printed as it came.
        run_scripted(
            assistant,
            (rawtext.decode(raw) for raw in sys.stdin.buffer),
            lambda text: click.echo(rawtext.encode(text)),
            lambda text, style="": click.echo(text, err=True),
            config,
        )
        return 0
    from bashcoder.repl.app import Repl

    if os.environ.get("TERM", "") in ("dumb", "unknown"):  # prompt_toolkit falls back to a plain prompt
        click.echo(
            "bashcoder-repl: TERM=dumb: no ghost text, Tab menu or multi-line display in this "
            "terminal; set TERM (e.g. xterm-256color) for them.",
            err=True,
        )

    click.echo(
        f"bashcoder-repl: model {assistant.model_name} on {assistant.generator.plan.describe()}. "
        "Tab: candidates · Ctrl-G: write the block a # comment describes · :help · Ctrl-D exits"
        + ("" if config.execute else " · --no-exec: nothing runs"),
        err=True,
    )
    return Repl(assistant, config).run()
