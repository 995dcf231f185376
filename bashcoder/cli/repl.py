"""`bashcoder-repl`: click options onto `ReplConfig`/`Settings`, then repl/launch.start (the REPL, or
the scripted mode without a terminal). Nothing heavier than the config loads before the options parse."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bashcoder.cli.errors import reports_errors
from bashcoder.cli.knobs import SEED, knob_range, thread_range
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.knobs import CANDIDATES, MAX_TOKENS, TEMPERATURE, TIME_BUDGET_MS, TOP_K, TOP_P
from bashcoder.repl.config import MODES, STRATEGIES, ReplConfig, Settings


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
    "--suggest",
    "suggest",
    type=click.Choice(STRATEGIES),
    default=Settings.suggest,
    show_default=True,
    help="Where ghost text comes from, in order: history answers at once when a past command starts with "
    "the input, else the model.",
)
@click.option(
    "--no-history",
    "no_history",
    is_flag=True,
    help="Use no past commands: the shell history file is not read, nothing is suggested from history, "
    "and the model sees only this session's commands.",
)
@click.option(
    "--shell-history",
    "shell_history",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Shell history file to suggest from, read only (default: $HISTFILE, else your $SHELL's: ~/.zsh_history, fish's fish_history, ~/.bash_history).",
)
@click.option(
    "--temperature",
    default=Settings.temperature,
    show_default=True,
    type=knob_range(TEMPERATURE),
    help="Ghost text temperature; 0 = greedy.",
)
@click.option("--top-k", default=Settings.top_k, show_default=True, type=knob_range(TOP_K), help="0 = off.")
@click.option("--top-p", default=Settings.top_p, show_default=True, type=knob_range(TOP_P))
@click.option(
    "--max-tokens",
    default=Settings.max_tokens,
    show_default=True,
    type=knob_range(MAX_TOKENS),
    help="Most tokens per suggestion.",
)
@click.option(
    "--time-budget-ms",
    default=Settings.time_budget_ms,
    show_default=True,
    type=knob_range(TIME_BUDGET_MS),
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
    type=knob_range(CANDIDATES),
    help="Candidates in the Tab menu.",
)
@click.option(
    "--menu-temperature", default=Settings.menu_temperature, show_default=True, type=knob_range(TEMPERATURE)
)
@click.option(
    "--block-tokens",
    default=Settings.block_tokens,
    show_default=True,
    type=knob_range(MAX_TOKENS),
    help="Most tokens Ctrl-G writes.",
)
@click.option("--seed", default=None, type=SEED, help="Repeatable sampling.")
@click.option(
    "--history",
    "history_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="This REPL's own input history file (default: $XDG_STATE_HOME/bashcoder/history).",
)
@click.option(
    "--threads",
    default=None,
    type=thread_range(),
    help="CPU threads for the model (default: one per core; 1 is faster on busy machines).",
)
@click.option(
    "--context-files",
    default=ReplConfig.context_files,
    show_default=True,
    type=click.IntRange(0),
    help="File names of the current directory shown to the model (off: it did not help the shipped model).",
)
@click.option(
    "--context-commands",
    default=ReplConfig.context_commands,
    show_default=True,
    type=click.IntRange(0),
    help="Recent commands shown to the model.",
)
@reports_errors
def main(**opts: Any) -> None:
    """An interactive bash prompt with the model's suggestions as ghost text.

    Without a terminal on stdin, completes each input line and prints it.
    """
    if opts["no_history"] and opts["shell_history"] is not None:
        raise BashcoderError(
            f"--no-history and --shell-history {opts['shell_history']} ask for opposite things; choose one."
        )
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
        suggest=opts["suggest"],
        history=not opts["no_history"],
    )
    config = ReplConfig(
        model_path=opts["model_path"],
        device=opts["device"],
        execute=not opts["no_exec"],
        ghost_text=not opts["no_suggest"],
        history_file=opts["history_file"],
        shell_history=opts["shell_history"],
        threads=opts["threads"],
        context_files=opts["context_files"],
        context_commands=opts["context_commands"],
        settings=settings,
    )
    from bashcoder.repl.launch import start

    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if sys.stdin.isatty() and not sys.stdout.isatty():  # `bashcoder-repl | tee log`: say why no prompt
        click.echo(
            "bashcoder-repl: stdout is not a terminal, so each typed line is completed and printed "
            "(nothing runs); run it with stdout on the terminal for the REPL.",
            err=True,
        )
    sys.exit(start(config, interactive=interactive))
