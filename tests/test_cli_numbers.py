"""Every command refuses a number it cannot use as one line (exit 2), before loading anything:
nan and inf for float options, seeds torch cannot take, more threads than cores."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from bashcoder.cli.collect import main as collect_cmd
from bashcoder.cli.eval import main as eval_cmd
from bashcoder.cli.generate import main as generate_cmd
from bashcoder.cli.repl import main as repl_cmd
from bashcoder.cli.train import main as train_cmd

COMMANDS = {
    "generate": generate_cmd,
    "repl": repl_cmd,
    "train": train_cmd,
    "collect": collect_cmd,
    "eval": eval_cmd,
}


def options(kind: type[click.ParamType]) -> list[tuple[str, str]]:
    return [
        (name, p.opts[0])
        for name, cmd in COMMANDS.items()
        for p in cmd.params
        if isinstance(p, click.Option) and isinstance(p.type, kind) and not p.is_flag
    ]


def refused(command: str, *args: str) -> str:
    result = CliRunner().invoke(COMMANDS[command], list(args))
    assert result.exit_code == 2, (args, result.output, result.exception)
    assert "Traceback" not in result.output
    return result.output.strip().splitlines()[-1]


@pytest.mark.parametrize("command,flag", options(click.FloatRange))
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_float_options_refuse_nan_and_inf(command: str, flag: str, value: str) -> None:
    line = refused(command, flag, value)  # "not a finite number", or out of the option's range
    assert flag in line and ("finite" in line or "range" in line), line


def test_every_float_option_is_range_checked() -> None:
    plain = [(n, p.opts[0]) for n, c in COMMANDS.items() for p in c.params if p.type is click.FLOAT]
    assert plain == [] and len(options(click.FloatRange)) >= 15


@pytest.mark.parametrize(
    "command", sorted(n for n, c in COMMANDS.items() if any(p.name == "seed" for p in c.params))
)
def test_a_seed_torch_cannot_take_is_refused(command: str) -> None:
    assert "--seed" in refused(command, "--seed", str(2**64))
    assert "--seed" in refused(command, "--seed", "-1")


def test_more_threads_than_cores_are_refused() -> None:
    assert "--threads" in refused("repl", "--no-exec", "--threads", "5000")
