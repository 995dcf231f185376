"""`bashcoder-repl`: click options onto `ReplConfig`/`Settings`, then the REPL or the scripted mode.

The model loads before the terminal is switched to raw mode, so a model that
fails to load prints one line and leaves the terminal as it was.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bashcoder.cli import reports_errors
from bashcoder.repl.assistant import Assistant, load
from bashcoder.repl.config import MODES, ReplConfig, Settings


def start(config: ReplConfig, interactive: bool) -> None:
    """Load the model, then run the REPL (a terminal) or complete stdin line by line (no terminal)."""
    if config.threads:
        import torch

        torch.set_num_threads(config.threads)
    assistant = Assistant(load(config.model_path, config.device), config.settings)
    if not interactive:
        from bashcoder.repl.scripted import run_scripted

        run_scripted(
            assistant,
            sys.stdin,
            lambda text: click.echo(text),
            lambda text, style="": click.echo(text, err=True),
            config,
        )
        return
    from bashcoder.repl.app import Repl

    click.echo(
        f"bashcoder-repl: model {assistant.model_name} on {assistant.generator.plan.describe()}. "
        "Tab: candidates · Ctrl-G: write the block a # comment describes · :help · Ctrl-D exits"
        + ("" if config.execute else " · --no-exec: nothing runs"),
        err=True,
    )
    Repl(assistant, config).run()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--model",
    "model_path",
    type=click.Path(),
    default=None,
    help="Model directory (default: $BASHCODER_MODEL, then the shipped model).",
)
@click.option(
    "--device", default=None, help="cuda, mps or cpu (default: $BASHCODER_DEVICE, then the best available)."
)
@click.option(
    "--no-exec",
    "no_exec",
    is_flag=True,
    help="Never run anything; accepted commands are only recorded (see :save).",
)
@click.option(
    "--no-suggest", "no_suggest", is_flag=True, help="No ghost text while typing (Tab and Ctrl-G still work)."
)
@click.option(
    "--temperature",
    default=Settings.temperature,
    show_default=True,
    type=click.FloatRange(0, 2),
    help="Ghost text temperature; 0 = greedy.",
)
@click.option("--top-k", default=Settings.top_k, show_default=True, type=click.IntRange(0), help="0 = off.")
@click.option(
    "--top-p", default=Settings.top_p, show_default=True, type=click.FloatRange(0, 1, min_open=True)
)
@click.option(
    "--max-tokens",
    default=Settings.max_tokens,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Most tokens per suggestion.",
)
@click.option(
    "--time-budget-ms",
    default=Settings.time_budget_ms,
    show_default=True,
    type=click.IntRange(0, 60000),
    help="Most ms from a keystroke to its ghost text; past it the text so far is shown. 0 = no limit.",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default=Settings.mode,
    show_default=True,
    help="Where suggestions stop.",
)
@click.option(
    "--candidates",
    default=Settings.candidates,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Candidates in the Tab menu.",
)
@click.option(
    "--menu-temperature", default=Settings.menu_temperature, show_default=True, type=click.FloatRange(0, 2)
)
@click.option(
    "--block-tokens",
    default=Settings.block_tokens,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Most tokens Ctrl-G writes.",
)
@click.option("--seed", default=None, type=int, help="Repeatable sampling.")
@click.option(
    "--history",
    "history_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="History file (default: $XDG_STATE_HOME/bashcoder/history).",
)
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1),
    help="CPU threads for the model (default: one per core; 1 is faster on busy machines).",
)
@click.option(
    "--context-files",
    default=ReplConfig.context_files,
    show_default=True,
    type=click.IntRange(0),
    help="File names of the current directory shown to the model.",
)
@click.option(
    "--context-commands",
    default=ReplConfig.context_commands,
    show_default=True,
    type=click.IntRange(0),
    help="Recent commands shown to the model.",
)
@reports_errors
def command(**opts: Any) -> None:
    """An interactive bash prompt with the model's suggestions as ghost text.

    Without a terminal on stdin, completes each input line and prints it.
    """
    settings = Settings(
        temperature=opts["temperature"],
        top_k=opts["top_k"],
        top_p=opts["top_p"],
        max_tokens=opts["max_tokens"],
        time_budget_ms=opts["time_budget_ms"],
        mode=opts["mode"],
        candidates=opts["candidates"],
        menu_temperature=opts["menu_temperature"],
        block_tokens=opts["block_tokens"],
        seed=opts["seed"],
    )
    config = ReplConfig(
        model_path=opts["model_path"],
        device=opts["device"],
        execute=not opts["no_exec"],
        suggest=not opts["no_suggest"],
        history_file=opts["history_file"],
        threads=opts["threads"],
        context_files=opts["context_files"],
        context_commands=opts["context_commands"],
        settings=settings,
    )
    start(config, interactive=sys.stdin.isatty() and sys.stdout.isatty())
