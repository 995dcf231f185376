"""The decoder-only transformer and its pre-allocated KV cache.

RMSNorm, rotary position embeddings, fused QKV projection,
`scaled_dot_product_attention`, GELU MLP, output head tied to the embedding.
Pure token ids in, logits out: the model knows nothing of text or devices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_head, self.head_dim = cfg.n_head, cfg.head_dim
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        layer: int,
        cache: KVCache | None,
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        B, T, C = x.shape
        qkv = self.qkv(x).view(B, T, 3, self.n_head, self.head_dim).transpose(1, 3)  # (B, nh, 3, T, hs)
        qk = apply_rope(qkv[:, :, :2], cos, sin)  # q and k rotated in one go
        q, k, v = qk[:, :, 0], qk[:, :, 1], qkv[:, :, 2]  # (B, nh, T, hs)
        if cache is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            start = cache.length
            cache.k[layer, :, :, start : start + T] = k
            cache.v[layer, :, :, start : start + T] = v
            # The cache keeps the weights' dtype; autocast may compute q in bf16.
            keys = cache.k[layer, :, :, : start + T].to(q.dtype)  # (B, nh, start+T, hs)
            values = cache.v[layer, :, :, : start + T].to(q.dtype)
            if T == 1:
                y = decode_attention(q, keys, values)
            elif start == 0:
                y = F.scaled_dot_product_attention(q, keys, values, is_causal=True)
            else:
                y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


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
    on a 2-core CPU (it converts dtypes back and forth), and a decode step calls it 13 times."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.norm1 = nn.RMSNorm(cfg.n_embd, eps=cfg.norm_eps)
        self.attn = Attention(cfg)
        self.norm2 = nn.RMSNorm(cfg.n_embd, eps=cfg.norm_eps)
        self.fc = nn.Linear(cfg.n_embd, cfg.ffn_hidden, bias=False)
        self.out = nn.Linear(cfg.ffn_hidden, cfg.n_embd, bias=False)

    def forward(self, x, cos, sin, layer, cache, mask):  # noqa: ANN001 - hot path, types as in Attention
        x = x + self.attn(self.norm1(x), cos, sin, layer, cache, mask)
        return x + self.out(F.gelu(self.fc(self.norm2(x)), approximate="tanh"))


SMALL_STEP_TOKENS = 8
"""Up to this many new tokens on a cache take `Transformer._small_step`: a decode step is one,
and the prefill of a keystroke (the changed and the healed token, then <|fim_middle|>) 2-4."""


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
        """Logits for `idx` (B, T); with a cache, positions continue at `cache.length`.

        `last_only` computes the vocabulary projection for the final position
        only: a prefill needs one distribution, not T.
        """
        B, T = idx.shape
        start = cache.length if cache is not None else 0
        if start + T > (cache.capacity if cache is not None else self.cfg.context_length):
            raise ValueError(
                f"sequence of {start + T} tokens exceeds the context of {self.cfg.context_length}"
            )
        if (
            T <= SMALL_STEP_TOKENS
            and cache is not None
            and cache.k.dtype == self.wte.weight.dtype == torch.float32
            and not torch.is_autocast_enabled(idx.device.type)
        ):
            return self._small_step(idx, cache, last_only)
        cos = self.rope_cos[start : start + T]
        sin = self.rope_sin[start : start + T]
        mask = None
        if cache is not None and T > 1 and start > 0:
            # Query i (absolute start+i) may see keys 0..start+i.
            mask = torch.ones(T, start + T, dtype=torch.bool, device=idx.device).tril(diagonal=start)
        x = self.wte(idx)
        for i, block in enumerate(self.blocks):
            x = block(x, cos, sin, i, cache, mask)
        if cache is not None:
            cache.length = start + T
        x = self.norm(x[:, -1:] if last_only else x)
        return F.linear(x, self.wte.weight)  # tied head, (B, T, V)

    def _small_step(self, idx: torch.Tensor, cache: KVCache, last_only: bool) -> torch.Tensor:
        """`forward` for a few fp32 tokens per row on a cache, without nn.Module dispatch.

        A decode step is ~100 small ops on ~4 ms of matmuls; module calls,
        attribute lookups, the fused norm's dtype checks and SDPA's flash
        kernel cost another ~1-2 ms on a 2-core CPU. Same math as `forward`
        (a test holds them equal).
        """
        B, T = idx.shape
        C, nh, hs, eps = self.cfg.n_embd, self.cfg.n_head, self.cfg.head_dim, self.cfg.norm_eps
        pos = cache.length
        end = pos + T
        cos, sin = self.rope_cos[pos:end], self.rope_sin[pos:end]
        # Query i (position pos + i) sees keys 0..pos + i; one query sees them all.
        mask = torch.ones(T, end, dtype=torch.bool, device=idx.device).tril(pos) if T > 1 else None
        wte = self.wte.weight
        x = F.embedding(idx, wte)
        for i, block in enumerate(self.blocks):
            attn = block.attn
            qkv = F.linear(rms_norm(x, block.norm1.weight, eps), attn.qkv.weight)
            qkv = qkv.view(B, T, 3, nh, hs).transpose(1, 3)  # (B, nh, 3, T, hs)
            qk = apply_rope(qkv[:, :, :2], cos, sin)
            cache.k[i, :, :, pos:end] = qk[:, :, 1]
            cache.v[i, :, :, pos:end] = qkv[:, :, 2]
            y = decode_attention(qk[:, :, 0], cache.k[i, :, :, :end], cache.v[i, :, :, :end], mask)
            x = x + F.linear(y.transpose(1, 2).reshape(B, T, C), attn.proj.weight)
            h = F.linear(rms_norm(x, block.norm2.weight, eps), block.fc.weight)
            x = x + F.linear(F.gelu(h, approximate="tanh"), block.out.weight)
        cache.length = end
        x = x[:, -1:] if last_only else x
        return F.linear(rms_norm(x, self.norm.weight, eps), wte)

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
