"""`bashcoder-eval`: click options onto trainer/quality EvalConfig, then the report as a table, JSON or plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from bashcoder.cli.errors import reports_errors
from bashcoder.cli.knobs import SEED, FiniteFloatRange
from bashcoder.engine.errors import BashcoderError


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--model",
    type=click.Path(),
    default=None,
    help="Model directory (default: $BASHCODER_MODEL, then the shipped model).",
)
@click.option(
    "--data",
    type=click.Path(),
    default=None,
    help="Corpus directory: evaluate on its validation split (default data/).",
)
@click.option(
    "--texts", type=click.Path(), default=None, help="Evaluate on every script in this folder instead."
)
@click.option(
    "--samples", default=500, show_default=True, type=click.IntRange(1), help="Line starts to sample."
)
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--max-tokens", default=64, show_default=True, type=click.IntRange(1, 512))
@click.option("--device", default=None, help="cuda, mps or cpu.")
@click.option(
    "--shellcheck-samples",
    default=200,
    show_default=True,
    type=click.IntRange(0),
    help="Completions checked with ShellCheck.",
)
@click.option(
    "--val-fraction",
    default=0.05,
    show_default=True,
    type=FiniteFloatRange(0, 1, min_open=True, max_open=True),
)
@click.option(
    "--bpb-stride",
    default=None,
    type=click.IntRange(1),
    help="Tokens between the sliding windows that read a document longer than the context "
    "(default half the context; the context length = disjoint windows that each start fresh).",
)
@click.option(
    "--rerank/--no-rerank",
    default=True,
    show_default=True,
    help="FIM probes ask as the editor does: the FIM line and left-to-right lines, the one that best "
    "leads into the next line shown (--no-rerank: the greedy FIM line alone).",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(),
    default=None,
    help="Also write the report as JSON here ('-' = stdout).",
)
@click.option("--plot", "plot_out", type=click.Path(), default=None, help="Also write a PNG chart here.")
@reports_errors
def main(json_out: str | None, plot_out: str | None, **opts: Any) -> None:
    """Measure a model: bits per byte, next-line accuracy, syntax validity, ShellCheck findings."""
    from bashcoder.trainer.paths import check_output_file
    from bashcoder.trainer.quality.report import plot, table
    from bashcoder.trainer.quality.run import EvalConfig, run_eval

    if opts["data"] and opts["texts"]:
        raise BashcoderError("pass either --data or --texts, not both.")
    for flag, out in (("--json", json_out), ("--plot", plot_out)):
        if out and out != "-":
            check_output_file(Path(out), flag)  # before an hour of measuring, not after
    report = run_eval(EvalConfig(**opts))
    if json_out == "-":
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(table(report))
        if json_out:
            Path(json_out).write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
            click.echo(f"\nJSON: {json_out}")
    if plot_out:
        click.echo(f"plot: {plot(report, Path(plot_out))}", err=json_out == "-")
