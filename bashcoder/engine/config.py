"""Model configuration and the presets (`micro`, `tiny`, `small`), in one place.

Owns the shape of a model; knows nothing about weights, devices or tokens.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from bashcoder.engine.errors import BashcoderError


@dataclass(frozen=True)
class ModelConfig:
    """Shape of a decoder-only transformer."""

    n_layer: int
    """Number of transformer blocks."""
    n_embd: int
    """Hidden size (width of the residual stream)."""
    n_head: int
    """Attention heads; must divide `n_embd`."""
    ffn_hidden: int
    """Inner width of the feed-forward (GELU MLP) layer."""
    context_length: int
    """Longest sequence the model attends over, in tokens."""
    vocab_size: int = 8192
    """Rows of the (tied) embedding matrix; the tokenizer's vocabulary size."""
    rope_theta: float = 10000.0
    """Base of the rotary position embedding frequencies."""
    norm_eps: float = 1e-5
    """Epsilon of RMSNorm."""

    def __post_init__(self) -> None:
        for name in ("n_layer", "n_embd", "n_head", "ffn_hidden", "context_length", "vocab_size"):
            if isinstance(getattr(self, name), bool) or not isinstance(getattr(self, name), int):
                raise TypeError(f"{name} must be a whole number, got {getattr(self, name)!r}")
        for name in ("rope_theta", "norm_eps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
                raise TypeError(f"{name} must be a positive number, got {value!r}")
        for name in ("n_layer", "n_embd", "n_head", "ffn_hidden", "context_length", "vocab_size"):
            if getattr(self, name) <= 0:
                raise BashcoderError(f"model config: {name} must be positive, got {getattr(self, name)}.")
        if self.n_embd % self.n_head:
            raise BashcoderError(
                f"model config: n_embd {self.n_embd} is not divisible by n_head {self.n_head}; "
                "choose a head count that divides the width."
            )
        if (self.n_embd // self.n_head) % 2:
            raise BashcoderError("model config: the head size must be even for rotary embeddings.")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def with_vocab(self, vocab_size: int) -> ModelConfig:
        return dataclasses.replace(self, vocab_size=vocab_size)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> ModelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - names)
        if unknown:
            raise BashcoderError(
                f"model config has unknown keys {unknown}; it was written by a newer bashcoder."
            )
        return cls(**raw)  # type: ignore[arg-type]

    def num_params(self) -> int:
        """Parameter count with the output head tied to the embedding (counted once)."""
        d, f = self.n_embd, self.ffn_hidden
        per_block = 4 * d * d + 2 * d * f + 2 * d  # qkv+out, mlp, two norms
        return self.vocab_size * d + self.n_layer * per_block + d


PRESETS: dict[str, ModelConfig] = {
    # micro: for tests only; a forward pass takes a millisecond.
    "micro": ModelConfig(n_layer=2, n_embd=64, n_head=4, ffn_hidden=256, context_length=256),
    # tiny and small: exactly the original design's dimensions.
    "tiny": ModelConfig(n_layer=6, n_embd=384, n_head=6, ffn_hidden=1536, context_length=512),
    "small": ModelConfig(n_layer=12, n_embd=768, n_head=12, ffn_hidden=3072, context_length=1024),
}


def preset(name: str, vocab_size: int | None = None) -> ModelConfig:
    """Return a preset by name, optionally with another vocabulary size."""
    if name not in PRESETS:
        raise BashcoderError(f"unknown model size {name!r}; choose one of {', '.join(PRESETS)}.")
    cfg = PRESETS[name]
    return cfg.with_vocab(vocab_size) if vocab_size is not None else cfg
