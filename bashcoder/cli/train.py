"""`bashcoder-train`: click options mapped one to one onto TrainConfig; no logic here.

Also `python -m bashcoder.cli.train` (and `torchrun --nproc_per_node N -m bashcoder.cli.train`).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from bashcoder.cli.errors import reports_errors
from bashcoder.cli.knobs import FINITE_FLOAT, SEED
from bashcoder.engine.config import PRESETS
from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.config import MAX_DEFAULT_WARMUP, OPTIMIZERS, TOKENIZERS, TrainConfig
from bashcoder.trainer.schedule import SCHEDULES

_D = TrainConfig()  # defaults come from the dataclass, so help and behaviour cannot drift


class MixParam(click.ParamType):
    """`git=0.5,docs=0.2` -> (("git", 0.5), ("docs", 0.2)); "" -> ()."""

    name = "mix"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        pairs = []
        for item in str(value).replace(" ", "").split(","):
            if not item:
                continue
            name, sep, share = item.partition("=")
            try:
                pairs.append((name, float(share)))
            except ValueError:
                self.fail(f"{item!r} is not SOURCE=SHARE (e.g. git=0.5,docs=0.2)", param, ctx)
            if not sep or not name:
                self.fail(f"{item!r} is not SOURCE=SHARE (e.g. git=0.5,docs=0.2)", param, ctx)
        return tuple(pairs)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--model-size", type=click.Choice(list(PRESETS)), default=_D.model_size, show_default=True)
@click.option("--max-steps", type=int, default=_D.max_steps, show_default=True, help="Optimizer steps.")
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=_D.data,
    show_default=True,
    help="Directory with corpus.jsonl, or a prepared directory (meta.json, tokenizer.json, train.bin, val.bin).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Output model directory [default: runs/<model-size>].",
)
@click.option(
    "--batch-size",
    type=int,
    default=_D.batch_size,
    show_default=True,
    help="Sequences per micro-batch per device.",
)
@click.option(
    "--grad-accum",
    type=int,
    default=_D.grad_accum,
    show_default=True,
    help="Micro-batches per optimizer step.",
)
@click.option(
    "--context", type=int, default=None, help="Tokens per training window [default: the model's context]."
)
@click.option(
    "--lr",
    type=FINITE_FLOAT,
    default=None,
    help="Peak learning rate [default: muon 8e-3 tiny, 4e-3 small; adamw 1e-3 tiny, 6e-4 small].",
)
@click.option(
    "--min-lr-ratio",
    type=FINITE_FLOAT,
    default=_D.min_lr_ratio,
    show_default=True,
    help="Final LR / peak LR.",
)
@click.option(
    "--warmup-steps",
    type=int,
    default=None,
    help=f"Linear warmup steps [default: a tenth of --max-steps, at most {MAX_DEFAULT_WARMUP}].",
)
@click.option(
    "--optimizer",
    type=click.Choice(OPTIMIZERS),
    default=_D.optimizer,
    show_default=True,
    help="muon: torch.optim.Muon on the hidden matrices, AdamW on embeddings and norms.",
)
@click.option(
    "--schedule",
    type=click.Choice(SCHEDULES),
    default=_D.schedule,
    show_default=True,
    help="wsd: warmup, constant rate, then a decay over --decay-steps.",
)
@click.option(
    "--decay-steps",
    type=int,
    default=None,
    help="WSD: decay over the last N steps; 0 never decays (continue later) [default: 20%% of --max-steps].",
)
@click.option(
    "--mix",
    type=MixParam(),
    default="",
    metavar="SRC=SHARE,...",
    help="Target shares of training tokens per corpus source, e.g. git=0.5,docs=0.2 (others keep their size).",
)
@click.option(
    "--init-from",
    type=click.Path(path_type=Path),
    default=None,
    help="Start --out from a copy of another run's training state (e.g. to decay a WSD run's copy).",
)
@click.option(
    "--init-weights",
    type=click.Path(path_type=Path),
    default=None,
    help="Start from a model directory's weights (e.g. the shipped model) with a fresh optimizer; "
    "the corpus is encoded with that model's tokenizer (--tokenizer and --vocab-size are then unused).",
)
@click.option(
    "--weight-decay", type=FINITE_FLOAT, default=_D.weight_decay, show_default=True, help="On matrices only."
)
@click.option(
    "--grad-clip",
    type=FINITE_FLOAT,
    default=_D.grad_clip,
    show_default=True,
    help="Max gradient norm; 0 = off.",
)
@click.option(
    "--eval-interval",
    type=int,
    default=_D.eval_interval,
    show_default=True,
    help="Steps between validation runs.",
)
@click.option(
    "--eval-tokens",
    type=int,
    default=_D.eval_tokens,
    show_default=True,
    help="Validation tokens per evaluation.",
)
@click.option(
    "--save-interval",
    type=int,
    default=_D.save_interval,
    show_default=True,
    help="Steps between resumable checkpoints.",
)
@click.option(
    "--log-interval",
    type=int,
    default=_D.log_interval,
    show_default=True,
    help="Steps between metrics lines.",
)
@click.option(
    "--device", default=None, help="cuda, mps or cpu [default: $BASHCODER_DEVICE, then the best available]."
)
@click.option(
    "--compile/--no-compile",
    "compile",
    default=None,
    help="torch.compile model and loss [default: on CUDA, and on CPU with a C++ compiler].",
)
@click.option("--resume", is_flag=True, help="Continue the run saved in --out (pass the same options).")
@click.option("--seed", type=SEED, default=_D.seed, show_default=True)
@click.option(
    "--fim-rate",
    type=FINITE_FLOAT,
    default=_D.fim_rate,
    show_default=True,
    help="Share of chunks turned into FIM examples.",
)
@click.option(
    "--fim-line-rate",
    type=FINITE_FLOAT,
    default=_D.fim_line_rate,
    show_default=True,
    help="Share of FIM examples whose middle is whole lines (cut at line boundaries).",
)
@click.option("--vocab-size", type=int, default=_D.vocab_size, show_default=True, help="BPE vocabulary size.")
@click.option("--tokenizer", type=click.Choice(TOKENIZERS), default=_D.tokenizer, show_default=True)
@click.option(
    "--val-fraction",
    type=FINITE_FLOAT,
    default=_D.val_fraction,
    show_default=True,
    help="Share of bytes held out, by group.",
)
@reports_errors
def main(**opts: Any) -> None:
    """Train a bashcoder model on data/corpus.jsonl (from bashcoder-collect).

    Multi-GPU: torchrun --nproc_per_node N -m bashcoder.trainer [OPTIONS]
    """
    from bashcoder.trainer.train import train  # torch is imported only once the options parse

    given = click.get_current_context().get_parameter_source("vocab_size")
    if opts["tokenizer"] == "char" and given is click.core.ParameterSource.COMMANDLINE:
        raise BashcoderError(
            f"--vocab-size {opts['vocab_size']} sizes a BPE vocabulary; the char tokenizer always has "
            "its 256 bytes and special tokens: drop --vocab-size or use --tokenizer bpe."
        )
    result = train(TrainConfig(**opts))
    if int(os.environ.get("RANK", "0")) != 0:
        return
    bpb = f"{result.best_val_bpb:.4f}" if result.best_val_bpb is not None else "not measured"
    if result.interrupted:
        click.echo(
            f"stopped ({result.interrupted}) at step {result.step}; state saved in {result.out}; "
            "continue with the same options plus --resume."
        )
        code = {"SIGINT": 130, "SIGTERM": 128 + signal.SIGTERM}.get(result.interrupted, 1)
        sys.exit(code)
    click.echo(
        f"trained {result.step} steps ({result.tokens:,} tokens); best val {bpb} bits/byte; model in {result.out}"
    )


if __name__ == "__main__":
    main()
