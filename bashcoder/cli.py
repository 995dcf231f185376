"""Console entry points: each wires a click command to library functions.

Commands print a `BashcoderError` as one line on stderr and exit 1. The
subsystems' own commands are imported lazily so `bashcoder-generate` never
pays for pygls or prompt_toolkit.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from bashcoder.engine.errors import BashcoderError


def reports_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn BashcoderError into `error: <message>` and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BashcoderError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--model",
    "model_path",
    type=click.Path(),
    default=None,
    help="Model directory (default: $BASHCODER_MODEL, then the shipped model).",
)
@click.option(
    "--prompt",
    default=None,
    help="Text to continue, e.g. '# Script to list files'. Read from stdin when omitted.",
)
@click.option("--suffix", default="", help="Text after the cursor: complete the middle (fill-in-the-middle).")
@click.option(
    "--max-tokens",
    default=256,
    show_default=True,
    type=click.IntRange(1, 4096),
    help="Most new tokens per sample.",
)
@click.option(
    "--temperature", default=0.7, show_default=True, type=click.FloatRange(0, 5), help="0 = greedy."
)
@click.option("--top-k", default=40, show_default=True, type=click.IntRange(0), help="0 = off.")
@click.option("--top-p", default=0.95, show_default=True, type=click.FloatRange(0, 1, min_open=True))
@click.option("--repetition-penalty", default=1.1, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option("--num-samples", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--seed", default=None, type=int, help="Repeatable sampling.")
@click.option(
    "--mode",
    type=click.Choice(["script", "block", "line"]),
    default="script",
    show_default=True,
    help="Where to stop: end of script, end of block, end of line.",
)
@click.option(
    "--device", default=None, help="cuda, mps or cpu (default: $BASHCODER_DEVICE, then the best available)."
)
@click.option("--check", is_flag=True, help="Mark each sample valid or not with `bash -n`.")
@click.option(
    "--info", is_flag=True, help="Print the model's config, parameter count, device and dtypes, then exit."
)
@reports_errors
def generate_main(**opts: Any) -> None:
    """Generate bash from a prompt with a bashcoder model."""
    from bashcoder.generate_command import GenerateOptions, run_generate

    if not opts["info"] and opts["prompt"] is None:
        if sys.stdin.isatty():
            raise BashcoderError("no prompt: pass --prompt TEXT or pipe text on stdin.")
        opts["prompt"] = sys.stdin.read()
    run_generate(GenerateOptions(**opts), click.echo)


def _lazy(module: str, attr: str = "command") -> Callable[[], None]:
    def main() -> None:
        import importlib

        importlib.import_module(module).__dict__[attr]()

    return main


collect_main = _lazy("bashcoder.trainer.collect.cli")
train_main = _lazy("bashcoder.trainer.train_cli")
eval_main = _lazy("bashcoder.trainer.quality.cli")
lsp_main = _lazy("bashcoder.server.cli")
repl_main = _lazy("bashcoder.repl.cli")
