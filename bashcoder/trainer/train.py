"""The training loop: prepare data, build or restore everything, step, evaluate, checkpoint.

Owns the order of events; the pieces live in their own modules (data,
optim, schedule, step, evaluate, state, outdir, card, plot). Rank 0 alone
writes files; every rank draws its own data. Signals only raise a flag
that the loop reads between steps, so a save is never cut in half.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from bashcoder.engine.checkpoint import load_model_dir
from bashcoder.engine.config import ModelConfig, preset
from bashcoder.engine.device import DevicePlan, plan_for
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.fim import FimTokens
from bashcoder.engine.model import Transformer, build_model
from bashcoder.engine.tokenizer import Tokenizer
from bashcoder.trainer import distributed as dist_
from bashcoder.trainer.card import render_card
from bashcoder.trainer.config import TrainConfig, resume_mismatch
from bashcoder.trainer.data import WindowSampler
from bashcoder.trainer.evaluate import EvalResult, evaluate
from bashcoder.trainer.metrics import MetricsLog
from bashcoder.trainer.optim import build_optimizer
from bashcoder.trainer.outdir import branch_run, check_out_dir, publish_model, write_text_atomic
from bashcoder.trainer.plot import PLOT_FILE, plot_metrics
from bashcoder.trainer.prepare import (
    TOKENIZER_FILE,
    Prepared,
    data_identity,
    load_prepared,
    newline_tokens,
    prepare,
    token_byte_lengths,
)
from bashcoder.trainer.schedule import lr_at
from bashcoder.trainer.signals import StopSignals
from bashcoder.trainer.state import (
    has_train_state,
    load_train_state,
    restore_rng,
    rng_snapshot,
    save_train_state,
    saved_config,
)
from bashcoder.trainer.step import (
    LossModel,
    check_compile,
    compile_by_default,
    is_out_of_memory,
    out_of_memory_error,
    set_lr,
    train_step,
)

# Validation targets each corpus source gets at least (when it has them), so a
# small source's bits per byte is not a handful of windows.
MIN_SOURCE_TARGETS = 16384


@dataclass
class TrainResult:
    """What a call to `train` left behind."""

    out: Path
    step: int
    tokens: int
    best_val_bpb: float | None
    interrupted: str | None
    """Signal name (or 'stop_after') when the run stopped early; None when it finished."""
    model: Transformer = field(repr=False)
    """The trained weights as they are at the end (the directory holds the best ones)."""


@dataclass
class _Progress:
    """Counters that survive a resume (saved in state.json)."""

    step: int = 0
    tokens: int = 0
    best_val_bpb: float | None = None
    best_step: int | None = None
    last_val_bpb: float | None = None
    elapsed_s: float = 0.0
    tokens_per_s: float | None = None
    loss_sum: float = 0.0
    loss_count: int = 0


def train(cfg: TrainConfig, stop_after: int | None = None) -> TrainResult:
    """Run (or resume) the training described by `cfg`.

    `stop_after` stops after that many steps of this call, saving the state
    as an interrupt would (for tests and time-boxed sessions).
    """
    info = dist_.init_distributed(cfg.device)
    try:
        return _Run(cfg, info).run(stop_after)
    finally:
        dist_.shutdown(info)


def check_model_dir(directory: Path) -> None:
    """BashcoderError naming the fix when `directory` (--init-weights) is not a model directory."""
    if not ((directory / "config.json").is_file() and (directory / TOKENIZER_FILE).is_file()):
        raise BashcoderError(
            f"--init-weights {directory}: no model there (config.json, weights, tokenizer.json); "
            "name a model directory such as bashcoder/models/tiny or a run's --out."
        )


def initial_weights(directory: Path, model_cfg: ModelConfig, tok: Tokenizer) -> dict[str, torch.Tensor]:
    """The weights of the model in `directory` (fp32, CPU) for a run of `model_cfg` on data tokenized by `tok`.

    BashcoderError when the directory holds no loadable model, or one of
    another shape or with another tokenizer (its token ids would mean other
    text in this run's data).
    """
    check_model_dir(directory)
    loaded = load_model_dir(directory)
    shape = ("n_layer", "n_embd", "n_head")
    same_shape = all(getattr(loaded.config, k) == getattr(model_cfg, k) for k in shape)
    if same_shape and loaded.config.vocab_size != model_cfg.vocab_size:
        raise BashcoderError(
            f"--init-weights {directory}: that model reads {loaded.config.vocab_size} tokens, this run's "
            f"tokenizer has {model_cfg.vocab_size}; train with that model's tokenizer (--tokenizer bpe, "
            f"--vocab-size {loaded.config.vocab_size}) or from scratch without --init-weights."
        )
    if loaded.config != model_cfg:
        raise BashcoderError(
            f"--init-weights {directory}: that model is {loaded.config.n_layer} layers x {loaded.config.n_embd} "
            f"with {loaded.config.vocab_size} tokens, this run builds {model_cfg.n_layer} x {model_cfg.n_embd} "
            f"with {model_cfg.vocab_size}; pass the matching --model-size."
        )
    if json.loads(loaded.tokenizer.to_json())["model"] != json.loads(tok.to_json())["model"]:
        raise BashcoderError(
            f"--init-weights {directory}: its tokenizer differs from the prepared data's; prepare the data "
            "with that model's tokenizer (or train from scratch without --init-weights)."
        )
    return {k: v.float() for k, v in loaded.model.state_dict().items()}


class _Run:
    def __init__(self, cfg: TrainConfig, info: dist_.DistInfo) -> None:
        self.cfg, self.info = cfg, info
        self.plan: DevicePlan = plan_for(info.device)
        self.out = cfg.out_dir
        self.log = MetricsLog(self.out)
        self.progress = _Progress()
        self._mark_time, self._mark_step = time.perf_counter(), 0

    # ---- setup ---------------------------------------------------------
    def _prepare(self) -> Prepared:
        cfg = self.cfg
        check_compile(cfg.compile, self.info.device)  # before the data is prepared, not after
        init_weights = cfg.init_weights
        if cfg.resume and has_train_state(self.out):  # the saved options too (preparing takes minutes)
            saved = saved_config(self.out)
            self._refuse_other_options(resume_mismatch(saved, cfg))
            if init_weights is None and saved.get("init_weights"):  # its data is in that model's tokens
                init_weights = Path(str(saved["init_weights"]))

        def main_side() -> str:
            if cfg.init_from is not None:
                branch_run(cfg.init_from, self.out)
            check_out_dir(self.out, cfg.resume or cfg.init_from is not None)
            # Weights go on training only on data in their own tokens: the model's tokenizer encodes
            # the corpus (on --resume too, so the data stays that of the run's start).
            base = None
            if init_weights is not None:
                check_model_dir(init_weights)
                base = init_weights / TOKENIZER_FILE
            return str(
                prepare(cfg.data, cfg.tokenizer, cfg.vocab_size, cfg.val_fraction, cfg.mix, base).directory
            )

        prepared = load_prepared(Path(dist_.run_on_main(main_side, self.info)))
        need = cfg.batch_size * (cfg.seq_len + 1)
        have = prepared.split_meta("train")["tokens"]
        if have < need:
            raise BashcoderError(
                f"the training split has {have:,} tokens, fewer than one batch ({cfg.batch_size} x "
                f"{cfg.seq_len + 1} = {need:,}); collect more data, or lower --batch-size or --context."
            )
        if prepared.split_meta("val")["tokens"] < 2:
            raise BashcoderError(
                "the validation split is empty; collect more documents or raise --val-fraction."
            )
        return prepared

    def _build(self, prepared: Prepared) -> None:
        cfg, info = self.cfg, self.info
        tok = prepared.tokenizer
        self.tokenizer = tok
        self.model_cfg = preset(cfg.model_size, vocab_size=tok.vocab_size)
        self.model = build_model(self.model_cfg, seed=cfg.seed)
        if cfg.init_weights is not None and not cfg.resume:
            self.model.load_state_dict(initial_weights(cfg.init_weights, self.model_cfg, tok))
        self.model = self.model.to(info.device)
        self.model.train()
        self.optimizer = build_optimizer(
            self.model, cfg.peak_lr, cfg.weight_decay, info.device, cfg.optimizer
        )
        fim = FimTokens(tok.fim_prefix_id, tok.fim_suffix_id, tok.fim_middle_id, tok.eot_id)
        self.sampler = WindowSampler(
            prepared.bin_path("train"),
            cfg.seq_len,
            cfg.batch_size,
            cfg.fim_rate,
            fim,
            cfg.seed,
            info.rank,
            fim_line_rate=cfg.fim_line_rate,
            has_newline=newline_tokens(tok),
        )
        self.val_tokens = np.memmap(prepared.bin_path("val"), dtype=np.uint16, mode="r")
        raw_ranges = prepared.split_meta("val").get("sources", {})
        self.val_ranges = {str(k): (int(v[0]), int(v[1])) for k, v in raw_ranges.items() if v[1] - v[0] > 1}
        self.byte_lengths = token_byte_lengths(tok)
        self.tokens_per_step = cfg.batch_size * cfg.seq_len * cfg.grad_accum * info.world_size
        use_compile = cfg.compile if cfg.compile is not None else compile_by_default(info.device)
        net: torch.nn.Module = LossModel(self.model)
        if use_compile:
            net = torch.compile(net)  # type: ignore[assignment]
        if info.enabled:
            ids = [info.device.index] if info.device.type == "cuda" else None
            net = DistributedDataParallel(net, device_ids=ids)
        self.net = net

    def _refuse_other_options(self, diffs: list[str]) -> None:
        if diffs:
            raise BashcoderError(
                f"{self.out} holds a run with different options ({', '.join(diffs)}); pass the original options "
                "with --resume, or choose a new --out."
            )

    def _restore(self, prepared: Prepared) -> None:
        cfg, info = self.cfg, self.info
        state = load_train_state(self.out)
        payload = state.payload
        diffs = resume_mismatch(payload["config"], cfg)  # type: ignore[arg-type]
        if payload.get("world_size") != info.world_size:
            diffs.append(f"processes {payload.get('world_size')} -> {info.world_size}")
        if payload.get("prepared_key") != prepared.meta.get("key") and (
            "data_identity" not in payload or payload["data_identity"] != data_identity(prepared)
        ):
            diffs.append("the prepared data (corpus or tokenizer options changed)")
        self._refuse_other_options(diffs)
        self.model.load_state_dict(state.model)
        self.optimizer.load_state_dict(state.optimizer)
        ranks = payload["ranks"]
        mine = ranks[info.rank]  # type: ignore[index]
        self.sampler.load_state_dict(mine["sampler"])
        restore_rng(mine["rng"], info.device)
        saved = payload["progress"]
        self.progress = _Progress(**saved)  # type: ignore[arg-type]
        if info.is_main:
            self.log.truncate_after(self.progress.step)

    # ---- pieces of the loop -------------------------------------------
    def _next_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.sampler.next_batch()
        device = self.info.device
        xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
        if device.type == "cuda":
            return xt.pin_memory().to(device, non_blocking=True), yt.pin_memory().to(
                device, non_blocking=True
            )
        return xt.to(device), yt.to(device)

    def _evaluate(self) -> tuple[EvalResult, dict[str, float]]:
        """Validation over the whole split, and bits per byte of each corpus source in it.

        Each source's stretch of val.bin gets its share of --eval-tokens (at
        least MIN_SOURCE_TARGETS, or all of it), so the total is measured as
        before and a small source is not drowned in noise.
        """
        cfg, info = self.cfg, self.info
        ranges = self.val_ranges or {"": (0, len(self.val_tokens))}
        total = sum(end - start for start, end in ranges.values())
        sums = [0.0, 0, 0]
        by_source: dict[str, float] = {}
        for source, (start, end) in sorted(ranges.items()):
            budget = max(MIN_SOURCE_TARGETS, cfg.eval_tokens * (end - start) // max(1, total))
            part = evaluate(
                self.model,
                self.val_tokens[start:end],
                self.byte_lengths,
                cfg.seq_len,
                cfg.batch_size,
                budget,
                self.plan,
                info.rank,
                info.world_size,
            )
            loss_sum, targets, n_bytes = dist_.all_reduce_sum(
                [part.loss_sum, part.targets, part.n_bytes], info
            )
            one = EvalResult(loss_sum, int(targets), int(n_bytes))
            if source and one.n_bytes:
                by_source[source] = one.bpb
            sums = [sums[0] + loss_sum, sums[1] + int(targets), sums[2] + int(n_bytes)]
        return EvalResult(sums[0], int(sums[1]), int(sums[2])), by_source

    def _summary(self, prepared: Prepared, finished: bool) -> dict[str, object]:
        p = self.progress
        return {
            "name": f"bashcoder-{self.cfg.model_size}",
            "out": str(self.out),
            "params": self.model_cfg.num_params(),
            "model": self.model_cfg.to_dict(),
            "config": self.cfg.to_dict(),
            "data": prepared.meta,
            "step": p.step,
            "max_steps": self.cfg.max_steps,
            "tokens": p.tokens,
            "best_val_bpb": p.best_val_bpb,
            "best_step": p.best_step,
            "last_val_bpb": p.last_val_bpb,
            "hardware": self.plan.describe(),
            "world_size": self.info.world_size,
            "tokens_per_s": round(p.tokens_per_s) if p.tokens_per_s else None,
            "elapsed_s": round(p.elapsed_s),
            "finished": finished,
        }

    def _model_meta(self, prepared: Prepared) -> dict[str, object]:
        p = self.progress
        return {
            "training": {
                "step": p.step,
                "tokens": p.tokens,
                "val_bpb": p.last_val_bpb,
                "model_size": self.cfg.model_size,
                "corpus_sha256": prepared.meta.get("corpus_sha256"),
                "fim_rate": self.cfg.fim_rate,
                "fim_line_rate": self.cfg.fim_line_rate,
            }
        }

    def _save_state(self, prepared: Prepared) -> None:
        ranks = dist_.all_gather_json(
            {"sampler": self.sampler.state_dict(), "rng": rng_snapshot(self.info.device)}, self.info
        )
        if not self.info.is_main:
            return
        payload = {
            "step": self.progress.step,
            "config": self.cfg.to_dict(),
            "world_size": self.info.world_size,
            "prepared_key": prepared.meta.get("key"),
            "data_identity": data_identity(prepared),
            "ranks": ranks,
            "progress": vars(self.progress),
        }
        save_train_state(self.out, self.model.state_dict(), self.optimizer.state_dict(), payload)

    def _write_card(self, prepared: Prepared, finished: bool) -> None:
        if self.info.is_main and (self.out / "config.json").is_file():
            write_text_atomic(self.out / "README.md", render_card(self._summary(prepared, finished)))

    def _eval_and_keep_best(self, prepared: Prepared, bar: tqdm) -> None:
        result, by_source = self._evaluate()
        p = self.progress
        p.last_val_bpb = result.bpb
        if self.info.is_main:
            self.log.append(
                {
                    "kind": "val",
                    "step": p.step,
                    "tokens": p.tokens,
                    "loss": result.loss,
                    "bpb": result.bpb,
                    "bpb_by_source": by_source,
                }
            )
            bar.write(
                f"step {p.step}: val loss {result.loss:.4f}, {result.bpb:.4f} bits/byte", file=sys.stderr
            )
        if p.best_val_bpb is None or result.bpb < p.best_val_bpb:
            p.best_val_bpb, p.best_step = result.bpb, p.step
            if self.info.is_main:
                card = render_card(self._summary(prepared, finished=False))
                publish_model(self.out, self.model, self.tokenizer, card, self._model_meta(prepared))
        if self.info.is_main:
            plot_metrics(self.log.read(), self.out / PLOT_FILE)

    def _log_train(self, loss_acc: torch.Tensor, norm: torch.Tensor | None, bar: tqdm) -> None:
        """Read the accumulated loss (a device sync), write a metrics line, refresh the bar."""
        p, info = self.progress, self.info
        (total,) = dist_.all_reduce_sum([float(loss_acc)], info)
        mean_loss = total / info.world_size / p.loss_count
        now = time.perf_counter()
        p.tokens_per_s = (p.step - self._mark_step) * self.tokens_per_step / max(now - self._mark_time, 1e-9)
        self._mark_time, self._mark_step = now, p.step
        if not math.isfinite(mean_loss):
            raise BashcoderError(
                f"the loss became {mean_loss} at step {p.step}; start again with a lower --lr "
                f"(now {self.cfg.peak_lr})."
            )
        loss_acc.zero_()
        p.loss_count = 0
        if not info.is_main:
            return
        record = {
            "kind": "train",
            "step": p.step,
            "tokens": p.tokens,
            "loss": mean_loss,
            "lr": self.optimizer.param_groups[0]["lr"],
            "grad_norm": float(norm) if norm is not None else None,
            "tokens_per_s": p.tokens_per_s,
        }
        self.log.append(record)
        bpb = f"{p.last_val_bpb:.3f}" if p.last_val_bpb is not None else "-"
        bar.set_postfix_str(f"loss {mean_loss:.3f}, val bpb {bpb}, {p.tokens_per_s:,.0f} tok/s")

    def _restart_clock(self) -> None:
        """Evaluations and saves are not training: tokens/s counts from here."""
        self._mark_time, self._mark_step = time.perf_counter(), self.progress.step

    # ---- the loop ------------------------------------------------------
    def run(self, stop_after: int | None) -> TrainResult:
        cfg, info = self.cfg, self.info
        prepared = self._prepare()
        self._build(prepared)
        if cfg.resume or cfg.init_from is not None:
            self._restore(prepared)
        elif info.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            self.log.truncate_after(-1)  # curves of a run that died before its first checkpoint
        try:
            interrupted = self._loop(prepared, stop_after)
        except RuntimeError as exc:
            if is_out_of_memory(exc):
                raise out_of_memory_error(cfg.batch_size, cfg.seq_len, cfg.grad_accum, info.device) from exc
            raise
        p = self.progress
        return TrainResult(self.out, p.step, p.tokens, p.best_val_bpb, interrupted, self.model)

    def _loop(self, prepared: Prepared, stop_after: int | None) -> str | None:
        """Train until max_steps or a stop; returns why it stopped early, or None."""
        cfg, info, p = self.cfg, self.info, self.progress
        start_step = p.step
        bar = tqdm(
            total=cfg.max_steps,
            initial=p.step,
            unit="step",
            dynamic_ncols=True,
            disable=not info.is_main or None,  # None: only on a terminal
            file=sys.stderr,
        )
        stopper = StopSignals()
        interrupted: str | None = None
        loss_acc = torch.tensor(p.loss_sum, device=info.device)
        run_start = time.perf_counter() - p.elapsed_s
        self._restart_clock()
        with stopper.installed(), bar:
            while p.step < cfg.max_steps:
                lr = lr_at(
                    p.step, cfg.peak_lr, cfg.warmup, cfg.max_steps, cfg.min_lr_ratio, cfg.schedule, cfg.decay
                )
                set_lr(self.optimizer, lr)
                loss, norm = train_step(
                    self.net, self.optimizer, self._next_batch, self.plan, cfg.grad_accum, cfg.grad_clip
                )
                p.step += 1
                p.tokens += self.tokens_per_step
                loss_acc += loss
                p.loss_count += 1
                bar.update(1)
                last = p.step == cfg.max_steps
                if p.step % cfg.log_interval == 0 or last:
                    self._log_train(loss_acc, norm, bar)
                if p.step % cfg.eval_interval == 0 or last:
                    self._eval_and_keep_best(prepared, bar)
                    self._restart_clock()
                stop = stopper.received
                if stop_after is not None and p.step - start_step >= stop_after:
                    stop = stop or "stop_after"
                if dist_.any_rank(stop is not None, info):  # every rank stops at the same step
                    interrupted = stop or "signal on another rank"
                if p.step % cfg.save_interval == 0 or last or interrupted:
                    p.loss_sum = float(loss_acc)
                    p.elapsed_s = time.perf_counter() - run_start
                    self._save_state(prepared)
                    self._restart_clock()
                if interrupted:
                    break
            p.elapsed_s = time.perf_counter() - run_start
            if info.is_main and not (self.out / "config.json").is_file():
                # Stopped before the first evaluation: leave a loadable model anyway.
                publish_model(self.out, self.model, self.tokenizer, "", self._model_meta(prepared))
            self._write_card(prepared, finished=interrupted is None and p.step >= cfg.max_steps)
        return interrupted
