"""The decoder-only transformer and its pre-allocated KV cache.

RMSNorm, rotary position embeddings, fused QKV projection, GELU MLP, output
head tied to the embedding. The block is written once; `Transformer.forward`
only chooses its kernels (causal SDPA for training and prefill, plain ops for
a few cached queries), and an exported graph can bring its own (see
`onnx_export`). Pure token ids in, logits out: the model knows nothing of
text, devices or runtimes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from bashcoder.engine.config import ModelConfig


@dataclass
class KVCache:
    """Keys and values for every layer, allocated once for the whole context.

    `length` is the number of positions already filled; all rows share it
    (candidates are sampled in lockstep).
    """

    k: torch.Tensor  # (L, B, nh, T_max, hs)
    v: torch.Tensor  # (L, B, nh, T_max, hs)
    length: int = 0

    @classmethod
    def allocate(
        cls,
        cfg: ModelConfig,
        batch: int,
        device: torch.device,
        dtype: torch.dtype,
        max_len: int | None = None,
    ) -> KVCache:
        shape = (cfg.n_layer, batch, cfg.n_head, max_len or cfg.context_length, cfg.head_dim)
        return cls(
            torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype)
        )

    @property
    def batch(self) -> int:
        return self.k.shape[1]

    @property
    def capacity(self) -> int:
        return self.k.shape[3]

    def rows(self, n: int) -> KVCache:
        """A view of the first `n` rows (writes go to this cache's storage)."""
        return KVCache(self.k[:, :n], self.v[:, :n], self.length)

    def copy_row0(self, rows: range, start: int, end: int) -> None:
        """Make positions [start, end) of `rows` equal to row 0's (a prefill fills row 0 only)."""
        if len(rows) and end > start:
            self.k[:, rows, :, start:end] = self.k[:, :1, :, start:end]
            self.v[:, rows, :, start:end] = self.v[:, :1, :, start:end]

    def truncate(self, length: int) -> None:
        """Forget positions from `length` on (the prefix before it stays valid)."""
        self.length = min(self.length, length)


Attend = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""An attention kernel for one layer: q, k, v of the new positions, each (B, nh, T, hs), to
y (B, nh, T, hs). A kernel on a cache also stores k and v there and attends over the whole cache."""
PackedAttend = Callable[[torch.Tensor], torch.Tensor]
"""A kernel on the fused projection's output as it comes, qkv (B, T, 3C) (the heads of q, then
of k, then of v; not rotated), to y (B, T, C): it rotates q and k and keeps the cache itself."""
Norm = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
"""RMSNorm as (x (..., C), weight (C,), eps) -> (..., C): the fused kernel or four plain ops."""


class Attention(nn.Module):
    """Fused q/k/v projection and output projection; which positions attend where is the kernel's."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_head, self.head_dim = cfg.n_head, cfg.head_dim
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)


class Block(nn.Module):
    """Pre-norm attention then GELU MLP, each added to the residual stream."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.eps = cfg.norm_eps
        self.norm1 = nn.RMSNorm(cfg.n_embd, eps=cfg.norm_eps)
        self.attn = Attention(cfg)
        self.norm2 = nn.RMSNorm(cfg.n_embd, eps=cfg.norm_eps)
        self.fc = nn.Linear(cfg.n_embd, cfg.ffn_hidden, bias=False)
        self.out = nn.Linear(cfg.ffn_hidden, cfg.n_embd, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        attend: Attend,
        norm: Norm,
        last_only: bool = False,
    ) -> torch.Tensor:
        """x (B, T, C) -> (B, T, C); cos/sin (T, hs/2) are the rotary tables at the new positions.

        `last_only` (the model's last block when only the final position's
        logits are wanted) still gives `attend` the keys and values of all T
        positions, for the cache, but computes the attention output, the
        projection and the MLP for the final position only, and returns
        (B, 1, C): nothing after the last block reads the other rows. For
        tiny's 512-token prefill that is ~13% of the FLOPs (llama.cpp skips
        the same rows: `inp_out_ids` in its graph builders).

        The weights are applied with `F.linear`, not through their modules: a
        decode step is ~100 small ops around ~4 ms of matmuls, and module
        calls (with the fused norm and SDPA) cost ~1-2 ms of it on 2 cores.
        Same math, same state-dict keys.
        """
        B, T, C = x.shape
        nh, hs = self.attn.n_head, self.attn.head_dim
        qkv = F.linear(norm(x, self.norm1.weight, self.eps), self.attn.qkv.weight)
        qkv = qkv.view(B, T, 3, nh, hs).transpose(1, 3)  # (B, nh, 3, T, hs)
        qk = apply_rope(qkv[:, :, :2], cos, sin)  # q and k rotated in one go
        if last_only and T > 1:
            # The other rows' queries are projected anyway: one fused matmul, and a decode step
            # (T = 1, through the same exported graph) keeps its op count. Measured on the
            # shipped tiny, 2-core AMD EPYC: a separate q projection made decode steps 6% slower.
            y = attend(qk[:, :, 0, -1:], qk[:, :, 1], qkv[:, :, 2])  # (B, nh, 1, hs)
            x, T = x[:, -1:], 1
        else:
            y = attend(qk[:, :, 0], qk[:, :, 1], qkv[:, :, 2])  # (B, nh, T, hs)
        return self._finish(x, y.transpose(1, 2).reshape(B, T, C), norm)

    def forward_packed(
        self, x: torch.Tensor, attend: PackedAttend, norm: Norm, last_only: bool = False
    ) -> torch.Tensor:
        """`forward` with a kernel that takes the fused projection as it comes and rotates q and k
        itself (ONNX Runtime's GroupQueryAttention: see `onnx_export`); x (B, T, C) -> (B, T, C).

        `last_only` drops the other rows after the attention (the kernel computes them all: it
        stores every key and value and takes as many queries as keys), before the projection and
        the MLP, and returns (B, 1, C).
        """
        y = attend(F.linear(norm(x, self.norm1.weight, self.eps), self.attn.qkv.weight))  # (B, T, C)
        if last_only:
            x, y = x[:, -1:], y[:, -1:]
        return self._finish(x, y, norm)

    def _finish(self, x: torch.Tensor, y: torch.Tensor, norm: Norm) -> torch.Tensor:
        """The output projection of the attention y (B, T, C) and the MLP, each added to x (B, T, C)."""
        x = x + F.linear(y, self.attn.proj.weight)
        h = F.linear(norm(x, self.norm2.weight, self.eps), self.fc.weight)
        return x + F.linear(F.gelu(h, approximate="tanh"), self.out.weight)


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The kernel without a cache (training, scoring, an exported prefill): SDPA, each position
    seeing those before it. A single query over more keys (a `last_only` block) is the final
    position's and sees every key."""
    if q.shape[2] == 1:
        return F.scaled_dot_product_attention(q, k, v)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def cached_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    cache: KVCache,
    layer: int,
    mask: torch.Tensor | None,
    plain: bool,
) -> torch.Tensor:
    """The kernel on a cache: store k, v (B, nh, T, hs) at `cache.length`, attend over all filled slots.

    `mask` (T, length + T) is True where a query may look; None means causal
    from an empty cache (or, for one query, everywhere). `plain` picks
    `decode_attention` (a few queries) over SDPA (a prefill). q may hold the
    final position's query alone (B, nh, 1, hs): a `last_only` block.
    """
    start = cache.length
    end = start + k.shape[2]
    if q.shape[2] == 1:
        mask = None  # the final position sees every filled slot
    cache.k[layer, :, :, start:end] = k
    cache.v[layer, :, :, start:end] = v
    # The cache keeps the weights' dtype; autocast may compute q in bf16.
    keys = cache.k[layer, :, :, :end].to(q.dtype)  # (B, nh, end, hs)
    values = cache.v[layer, :, :, :end].to(q.dtype)
    if plain:
        return decode_attention(q, keys, values, mask)
    if mask is None:
        # SDPA aligns a causal mask top-left: one query would see the first key only.
        return F.scaled_dot_product_attention(q, keys, values, is_causal=q.shape[2] > 1)
    return F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)


def decode_attention(
    q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Attention of a few queries per row over the cache: q (B, nh, T, hs); `mask` (T, S) is
    True where a query may look (None: everywhere, as for one query at the end).

    Three plain ops beat SDPA's CPU flash kernel for a single query (~60 vs
    ~150 us a layer for tiny on 2 cores): its tiling pays off only with many
    queries.
    """
    scores = torch.matmul(q * q.shape[-1] ** -0.5, keys.transpose(-1, -2))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.matmul(scores.softmax(dim=-1), values)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (i, i + hs/2) by position-dependent angles. x: (..., T, hs), cos/sin: (T, hs/2)."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    # type_as: under autocast x is bf16 while the tables stay fp32.
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).type_as(x)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm in four plain ops: for one fp32 position, the fused kernel costs ~70 us a call
    on a 2-core CPU (it converts dtypes back and forth), and a decode step calls it 13 times.
    In fp32 its values and gradients are bit-identical to the fused kernel's (checked on CPU)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def fused_rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm through torch's kernel, as training has always computed it (many positions)."""
    return F.rms_norm(x, (x.shape[-1],), weight, eps)


SMALL_STEP_TOKENS = 8
"""Up to this many new tokens on a cache take the plain-op kernels: a decode step is one, and the
prefill of a keystroke (the changed and the healed token, then <|fim_middle|>) 2-4."""


class Transformer(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = nn.RMSNorm(cfg.n_embd, eps=cfg.norm_eps)
        cos, sin = rope_tables(cfg)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def init_weights(self, generator: torch.Generator | None = None) -> None:
        """GPT-2 style init; residual projections scaled down by depth."""
        resid_std = 0.02 / math.sqrt(2 * self.cfg.n_layer)
        for name, p in self.named_parameters():
            if p.dim() < 2:
                nn.init.ones_(p)
            elif name.endswith(("attn.proj.weight", "out.weight")):
                nn.init.normal_(p, 0.0, resid_std, generator=generator)
            else:
                nn.init.normal_(p, 0.0, 0.02, generator=generator)

    def forward(
        self,
        idx: torch.Tensor,
        cache: KVCache | None = None,
        last_only: bool = False,
    ) -> torch.Tensor:
        """Logits (B, T, V) for token ids `idx` (B, T); with a cache, positions continue at `cache.length`.

        `last_only` computes the vocabulary projection for the final position
        only (B, 1, V): a prefill needs one distribution, not T. The blocks are
        the same on every path; only the kernels differ: causal SDPA and the
        fused norm without a cache and for a prefill, plain ops for up to
        `SMALL_STEP_TOKENS` new tokens on a cache (a decode step).
        """
        B, T = idx.shape
        start = cache.length if cache is not None else 0
        if start + T > (cache.capacity if cache is not None else self.cfg.context_length):
            raise ValueError(
                f"sequence of {start + T} tokens exceeds the context of {self.cfg.context_length}"
            )
        few = cache is not None and T <= SMALL_STEP_TOKENS
        norm = rms_norm if few else fused_rms_norm
        mask = None
        if cache is not None and T > 1 and (few or start > 0):
            # Query i (absolute start+i) may see keys 0..start+i.
            mask = torch.ones(T, start + T, dtype=torch.bool, device=idx.device).tril(diagonal=start)
        cos, sin = self.rope_cos[start : start + T], self.rope_sin[start : start + T]
        x = F.embedding(idx, self.wte.weight)  # (B, T, C)
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            attend: Attend = (
                causal_attention
                if cache is None
                else partial(cached_attention, cache=cache, layer=i, mask=mask, plain=few)
            )
            x = block(x, cos, sin, attend, norm, last_only=last_only and i == last)
        if cache is not None:
            cache.length = start + T
        x = x[:, -1:] if last_only else x
        return F.linear(norm(x, self.norm.weight, self.cfg.norm_eps), self.wte.weight)  # tied head

    def loss(self, idx: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
        logits = self(idx)
        return F.cross_entropy(
            logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=ignore_index
        )

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def rope_tables(cfg: ModelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin of shape (context, hs/2) for rotary embeddings."""
    half = cfg.head_dim // 2
    freqs = 1.0 / (cfg.rope_theta ** (torch.arange(0, half, dtype=torch.float32) / half))
    angles = torch.outer(torch.arange(cfg.context_length, dtype=torch.float32), freqs)
    return angles.cos(), angles.sin()


def build_model(cfg: ModelConfig, seed: int = 0) -> Transformer:
    model = Transformer(cfg)
    model.init_weights(torch.Generator().manual_seed(seed))
    return model
