"""The training run's configuration: one frozen dataclass, one field per `bashcoder-train` option.

Owns the knobs and their validation; knows nothing about devices, data or
models beyond the preset names. `cli/train.py` maps click options onto these
fields one to one, so a field added here is an option added there.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from bashcoder.engine.config import PRESETS
from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.schedule import DEFAULT_DECAY_FRACTION, SCHEDULES

OPTIMIZERS = ("adamw", "muon")  # built in optim.py; named here so --help never imports torch
# Peak learning rate per optimizer and size when --lr is not given.
# AdamW: smaller models tolerate (and need) larger steps; 6e-4 is GPT-2 small's,
# 1e-3 the usual for ~10M params. Muon (RMS matched to AdamW's update): tiny's
# 8e-3 won the README's sweep (2e-3, 4e-3, 8e-3 at 32K tokens a step on an H200:
# 0.945 bits/byte against 0.970 and 1.000); small's is that halved, unmeasured,
# as AdamW's ratio between the sizes suggests; micro only serves tests.
DEFAULT_LR = {
    "adamw": {"micro": 3e-3, "tiny": 1e-3, "small": 6e-4},
    "muon": {"micro": 8e-3, "tiny": 8e-3, "small": 4e-3},
}
TOKENIZERS = ("bpe", "char")
UINT16_TOKENS = 65536  # train.bin/val.bin hold uint16 ids

# Options that may change between a run and its --resume: they move where
# things are read or written, or how often we look, not the arithmetic - and
# --max-steps and --decay-steps, so that a run can be trained longer (with WSD
# at constant rate; a cosine stretches to the new end, a warm restart) and a
# copy of it decayed (--init-from); --mix and --fim-rate, so that a long
# constant-rate run can take up what a later measurement found (the corpus and
# tokenizer must stay the same: train.data_identity).
RESUME_FREE_FIELDS = frozenset(
    {
        "resume",
        "device",
        "compile",
        "out",
        "data",
        "eval_interval",
        "save_interval",
        "log_interval",
        "max_steps",
        "decay_steps",
        "init_from",
        "init_weights",
        "mix",
        "fim_rate",
        "fim_line_rate",
    }
)
# Warmup when --warmup-steps is not given: a tenth of a short run, at most
# this many steps (enough for AdamW's second moments to settle).
MAX_DEFAULT_WARMUP = 100


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run."""

    model_size: str = "tiny"
    """Preset name: micro (tests), tiny or small."""
    max_steps: int = 5000
    """Optimizer steps to train for; the schedule ends here."""
    data: Path = Path("data")
    """Directory holding corpus.jsonl (from bashcoder-collect; prepared files are cached under it), or a
    prepared directory itself (meta.json, tokenizer.json, train.bin, val.bin)."""
    out: Path | None = None
    """Output model directory; None means runs/<model_size>."""
    batch_size: int = 16
    """Sequences per micro-batch on each device."""
    grad_accum: int = 1
    """Micro-batches accumulated per optimizer step."""
    context: int | None = None
    """Tokens per training window; None means the model's context length."""
    lr: float | None = None
    """Peak learning rate; None picks the optimizer's and size's default (DEFAULT_LR)."""
    min_lr_ratio: float = 0.1
    """Final learning rate as a fraction of the peak (end of the schedule)."""
    warmup_steps: int | None = None
    """Steps of linear warmup; None means a tenth of --max-steps, at most MAX_DEFAULT_WARMUP."""
    optimizer: str = "muon"
    """muon (torch.optim.Muon on the hidden matrices, AdamW on embeddings and norms) or adamw;
    muon won the README's comparison at equal tokens."""
    schedule: str = "wsd"
    """cosine (decay over the whole run) or wsd (warmup, constant, then decay over --decay-steps)."""
    decay_steps: int | None = None
    """WSD only: the last steps over which the rate decays; None means 20% of --max-steps, 0 never
    (a run to be continued, and decayed later in a copy made with --init-from)."""
    mix: tuple[tuple[str, float], ...] = ()
    """Target shares of training tokens per corpus source, e.g. (("git", 0.5), ("docs", 0.2)); sources
    not named keep their natural size. Reached by repeating or dropping documents in prepare."""
    init_from: Path | None = None
    """Start from the training state of another run directory (copied into `out`), as --resume does:
    used to decay a copy of a constant-rate WSD run without touching it."""
    init_weights: Path | None = None
    """Start from the weights of a model directory (e.g. the shipped model) with a fresh optimizer at step 0:
    the way on when a run's training state is lost, or to go on training the shipped model on your own
    scripts. The corpus is encoded with its tokenizer.json (`tokenizer` and `vocab_size` are unused); its
    size must match `model_size`. With --resume its weights are not read (the saved state holds them)."""
    weight_decay: float = 0.1
    """AdamW weight decay for matrices; norms and embeddings get none."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this; 0 turns clipping off."""
    eval_interval: int = 250
    """Steps between validation evaluations (bits per byte); the best model is kept."""
    eval_tokens: int = 131072
    """Validation tokens per evaluation (all of them when the split is smaller)."""
    save_interval: int = 250
    """Steps between training-state checkpoints: a kill loses at most this many steps."""
    log_interval: int = 10
    """Steps between metrics.jsonl lines and progress-bar updates."""
    device: str | None = None
    """cuda, mps or cpu; None means $BASHCODER_DEVICE, then the best available."""
    compile: bool | None = None
    """torch.compile the model and loss; None means where it was measured to pay (CUDA, CPU with a C++ compiler)."""
    resume: bool = False
    """Continue the run saved in `out` (same options required)."""
    seed: int = 0
    """Seed for weights, data order and FIM cuts (the validation split is fixed by the corpus alone)."""
    fim_rate: float = 0.5
    """Share of document chunks rearranged for fill-in-the-middle (half PSM, half SPM)."""
    fim_line_rate: float = 0.0
    """Share of those FIM examples cut at line boundaries (the middle is whole lines, as an editor asks at
    a line start) instead of at two random tokens."""
    vocab_size: int = 8192
    """BPE vocabulary size (ignored by the char tokenizer)."""
    tokenizer: str = "bpe"
    """bpe (byte-level BPE trained on the training split) or char (one token per byte)."""
    val_fraction: float = 0.05
    """Share of corpus bytes held out for validation, whole groups at a time."""

    def __post_init__(self) -> None:
        if self.model_size not in PRESETS:
            raise BashcoderError(
                f"unknown model size {self.model_size!r}; choose one of {', '.join(PRESETS)}."
            )
        if self.tokenizer not in TOKENIZERS:
            raise BashcoderError(f"unknown tokenizer {self.tokenizer!r}; choose bpe or char.")
        for name in (
            "max_steps",
            "batch_size",
            "grad_accum",
            "eval_interval",
            "eval_tokens",
            "save_interval",
            "log_interval",
        ):
            if getattr(self, name) <= 0:
                raise BashcoderError(
                    f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}."
                )
        if self.optimizer not in OPTIMIZERS:
            raise BashcoderError(
                f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}."
            )
        if self.schedule not in SCHEDULES:
            raise BashcoderError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}.")
        if self.decay_steps is not None and not 0 <= self.decay_steps <= self.max_steps:
            raise BashcoderError(
                f"--decay-steps {self.decay_steps} must be between 0 and --max-steps {self.max_steps}."
            )
        if self.decay_steps is not None and self.schedule != "wsd":
            raise BashcoderError("--decay-steps belongs to --schedule wsd; add it, or drop --decay-steps.")
        seen: set[str] = set()
        for name, share in self.mix:
            if name in seen or not 0 < share <= 1:
                raise BashcoderError(
                    f"--mix {name}={share}: each source once, with a share above 0 and at most 1 "
                    "(e.g. --mix git=0.5,debian=0.3,docs=0.2)."
                )
            seen.add(name)
        if self.init_from is not None and self.resume:
            raise BashcoderError("--init-from starts a new --out from another run; drop --resume.")
        if self.init_weights is not None and self.init_from is not None:
            raise BashcoderError(
                "--init-weights and --init-from both say where a run starts; keep one of them."
            )
        if self.warmup_steps is not None and (self.warmup_steps < 0 or self.warmup_steps >= self.max_steps):
            raise BashcoderError(
                f"--warmup-steps {self.warmup_steps} must be at least 0 and below --max-steps {self.max_steps}; "
                "lower it."
            )
        if self.context is not None and not 2 <= self.context <= PRESETS[self.model_size].context_length:
            raise BashcoderError(
                f"--context {self.context} must be between 2 and the {self.model_size} model's context "
                f"{PRESETS[self.model_size].context_length}."
            )
        if self.lr is not None and self.lr <= 0:
            raise BashcoderError(f"--lr must be positive, got {self.lr}.")
        if not 0 <= self.min_lr_ratio <= 1:
            raise BashcoderError(f"--min-lr-ratio must be within [0, 1], got {self.min_lr_ratio}.")
        if not 0 <= self.fim_rate <= 1:
            raise BashcoderError(f"--fim-rate must be within [0, 1], got {self.fim_rate}.")
        if not 0 <= self.fim_line_rate <= 1:
            raise BashcoderError(f"--fim-line-rate must be within [0, 1], got {self.fim_line_rate}.")
        if not 0 < self.val_fraction < 0.5:
            raise BashcoderError(f"--val-fraction must be above 0 and below 0.5, got {self.val_fraction}.")
        if self.weight_decay < 0 or self.grad_clip < 0:
            raise BashcoderError("--weight-decay and --grad-clip must not be negative.")
        if self.tokenizer == "bpe" and not 261 <= self.vocab_size <= UINT16_TOKENS:
            raise BashcoderError(
                f"--vocab-size {self.vocab_size} must be between 261 (bytes + specials) and {UINT16_TOKENS} "
                "(token ids are stored as uint16)."
            )

    @property
    def out_dir(self) -> Path:
        return self.out if self.out is not None else Path("runs") / self.model_size

    @property
    def warmup(self) -> int:
        """Warmup steps in effect (the default scales with a short run, so --max-steps 30 works)."""
        if self.warmup_steps is not None:
            return self.warmup_steps
        return min(MAX_DEFAULT_WARMUP, self.max_steps // 10)

    @property
    def decay(self) -> int:
        """WSD decay steps in effect (0 for cosine, which decays over the whole run)."""
        if self.schedule != "wsd":
            return 0
        if self.decay_steps is not None:
            return self.decay_steps
        return round(self.max_steps * DEFAULT_DECAY_FRACTION)

    @property
    def peak_lr(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer][self.model_size]

    @property
    def seq_len(self) -> int:
        return self.context if self.context is not None else PRESETS[self.model_size].context_length

    def to_dict(self) -> dict[str, object]:
        raw = dataclasses.asdict(self)
        raw["mix"] = ",".join(f"{name}={share:g}" for name, share in self.mix)  # as --mix spells it
        return {k: str(v) if isinstance(v, Path) else v for k, v in raw.items()}


def resume_mismatch(saved: dict[str, object], current: TrainConfig) -> list[str]:
    """'--option old -> new' for each field (other than RESUME_FREE_FIELDS) that differs from the saved run."""
    now = current.to_dict()
    names = sorted((set(saved) | set(now)) - RESUME_FREE_FIELDS)

    def shown(value: object) -> object:
        return "default" if value is None else value

    return [
        f"--{n.replace('_', '-')} {shown(saved.get(n))} -> {shown(now.get(n))}"
        for n in names
        if saved.get(n) != now.get(n)
    ]
