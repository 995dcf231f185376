"""`bashcoder-generate`: click options onto engine/oneshot.GenerateOptions."""

from __future__ import annotations

import sys
from typing import Any

import click

from bashcoder.cli.errors import reports_errors
from bashcoder.cli.knobs import SEED, knob_range
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.knobs import (
    CANDIDATES,
    MAX_TOKENS,
    REPETITION_PENALTY,
    SCRIPT_BEST_OF,
    TEMPERATURE,
    TOP_K,
    TOP_P,
    surface_default,
)


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
    default=int(surface_default("generate", "max_tokens")),
    show_default=True,
    type=knob_range(MAX_TOKENS),
    help="Most new tokens per sample.",
)
@click.option(
    "--temperature",
    default=surface_default("generate", "temperature"),
    show_default=True,
    type=knob_range(TEMPERATURE),
    help="0 = greedy.",
)
@click.option(
    "--top-k", default=int(TOP_K.default), show_default=True, type=knob_range(TOP_K), help="0 = off."
)
@click.option("--top-p", default=TOP_P.default, show_default=True, type=knob_range(TOP_P))
@click.option(
    "--repetition-penalty",
    default=surface_default("generate", "repetition_penalty"),
    show_default=True,
    type=knob_range(REPETITION_PENALTY),
)
@click.option(
    "--num-samples",
    default=int(CANDIDATES.default),
    show_default=True,
    type=knob_range(CANDIDATES),
    help="Samples drawn and ranked.",
)
@click.option(
    "--best-of",
    default=None,
    type=knob_range(CANDIDATES),
    help=f"Samples drawn, of which the --num-samples best are printed: parsed by bash -n, mostly code, "
    f"then most likely [default: {SCRIPT_BEST_OF} for --mode script, else 1; 1 when --temperature is 0].",
)
@click.option("--seed", default=None, type=SEED, help="Repeatable sampling.")
@click.option(
    "--mode",
    type=click.Choice(["script", "block", "line"]),  # "script" runs to the end of the text
    default="script",
    show_default=True,
    help="Where to stop: end of script (a #!/bin/bash line is added when the prompt has no shebang), end of block, end of line.",
)
@click.option(
    "--device", default=None, help="cuda, mps or cpu (default: $BASHCODER_DEVICE, then the best available)."
)
@click.option("--check", is_flag=True, help="Mark each sample valid or not with `bash -n`.")
@click.option(
    "--info", is_flag=True, help="Print the model's config, parameter count, device and dtypes, then exit."
)
@reports_errors
def main(**opts: Any) -> None:
    """Generate bash from a prompt with a bashcoder model."""
    from bashcoder.engine.oneshot import GenerateOptions, run_generate

    if opts["temperature"] == 0 and opts["num_samples"] > 1:
        raise BashcoderError(
            f"--temperature 0 (greedy) has one answer, so --num-samples {opts['num_samples']} would print it "
            f"{opts['num_samples']} times; give a --temperature above 0 to sample several."
        )
    if not opts["info"] and opts["prompt"] is None:
        if sys.stdin.isatty():
            raise BashcoderError("no prompt: pass --prompt TEXT or pipe text on stdin.")
        opts["prompt"] = sys.stdin.read()
        if not opts["prompt"].strip() and not opts["suffix"]:
            # An upstream command that printed nothing, not a request for any script at all.
            raise BashcoderError(
                "no prompt: stdin was empty; pass --prompt TEXT or pipe some text (--prompt '' writes a "
                "script from nothing)."
            )
    if opts["prompt"] and "\0" in opts["prompt"]:
        raise BashcoderError(
            "the prompt holds NUL bytes, so it is binary data, not a script; pass bash text."
        )
    run_generate(GenerateOptions(**opts), click.echo, lambda text: click.echo(text, err=True))
