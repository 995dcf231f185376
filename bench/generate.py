"""Generation speed: batch-1 decode tokens/s and 512-token prefill time.

For micro and tiny (random weights: speed does not depend on what was
learned), on this CPU and on CUDA when present. Beside the engine's decode
rate it prints the rate of a plain eager fp32 implementation of the same
weights (separate q/k/v projections, a cache grown with torch.cat, full-width
logits, autograd bookkeeping on) measured in the same run, so the figure is
what the engine adds on this machine.

Usage: python bench/generate.py [--sizes micro,tiny] [--tokens 200] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.config import preset
from bashcoder.engine.device import cpu_model, has_amx, plan, synchronize
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.model import Transformer, build_model
from bashcoder.engine.tokenizer import CharTokenizer


class _FakeVocabTokenizer(CharTokenizer):
    """Token ids only matter for speed; decode maps ids outside bytes to '?'."""

    def __init__(self, vocab: int) -> None:
        self._vocab = vocab

    @property
    def vocab_size(self) -> int:
        return self._vocab

    def decode(self, ids):  # noqa: ANN001, ANN201
        return "".join(chr(32 + i % 90) for i in ids)


def plain_eager_decode_rate(model: Transformer, prompt: torch.Tensor, n_tokens: int) -> float:
    """Tokens/s of a straightforward eager fp32 decoder over the same weights."""
    cfg = model.cfg
    blocks = model.blocks
    d, nh, hs = cfg.n_embd, cfg.n_head, cfg.head_dim
    ws = [
        (
            b.attn.qkv.weight[:d],
            b.attn.qkv.weight[d : 2 * d],
            b.attn.qkv.weight[2 * d :],
            b.attn.proj.weight,
            b.fc.weight,
            b.out.weight,
            b.norm1.weight,
            b.norm2.weight,
        )
        for b in blocks
    ]

    def rms(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg.norm_eps) * w

    def rope(x: torch.Tensor, pos: int) -> torch.Tensor:
        cos, sin = model.rope_cos[pos : pos + x.shape[2]], model.rope_sin[pos : pos + x.shape[2]]
        x1, x2 = x[..., : hs // 2], x[..., hs // 2 :]
        return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)

    def forward(
        idx: torch.Tensor, cache: list[tuple[torch.Tensor, torch.Tensor] | None], pos: int
    ) -> torch.Tensor:
        x = model.wte.weight[idx]
        T = idx.shape[1]
        for i, (wq, wk, wv, wo, w1, w2, n1, n2) in enumerate(ws):
            h = rms(x, n1)
            q = (h @ wq.T).view(1, T, nh, hs).transpose(1, 2)
            k = (h @ wk.T).view(1, T, nh, hs).transpose(1, 2)
            v = (h @ wv.T).view(1, T, nh, hs).transpose(1, 2)
            q, k = rope(q, pos), rope(k, pos)
            if cache[i] is not None:
                k = torch.cat([cache[i][0], k], dim=2)  # type: ignore[index]
                v = torch.cat([cache[i][1], v], dim=2)  # type: ignore[index]
            cache[i] = (k, v)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1)
            x = x + y.transpose(1, 2).reshape(1, T, d) @ wo.T
            x = x + F.gelu(rms(x, n2) @ w1.T, approximate="tanh") @ w2.T
        return rms(x, model.norm.weight) @ model.wte.weight.T

    with torch.no_grad():
        cache: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(ws)
        logits = forward(prompt, cache, 0)
        tok = logits[:, -1:].argmax(-1)
        pos = prompt.shape[1]
        start = time.perf_counter()
        for _ in range(n_tokens):
            logits = forward(tok, cache, pos)
            tok = logits[:, -1:].argmax(-1)
            pos += 1
        return n_tokens / (time.perf_counter() - start)


def engine_decode_rate(gen: Generator, prompt: list[int], n_tokens: int) -> float:
    s = SamplingConfig(temperature=0, max_tokens=n_tokens)
    gen.generate(prompt, s)  # warm-up
    rates = []
    for _ in range(3):
        gen.reset_cache()  # time a fresh prefill+decode each round
        t0 = time.perf_counter()
        out = gen.generate(prompt, s)[0]
        synchronize(gen.plan.device)
        elapsed = time.perf_counter() - t0
        # Subtract the prefill, measured separately, to get the decode rate.
        gen.reset_cache()
        t1 = time.perf_counter()
        gen.generate(prompt, SamplingConfig(temperature=0, max_tokens=1))
        prefill = time.perf_counter() - t1
        rates.append(max(1, len(out.token_ids) - 1) / max(1e-9, elapsed - prefill))
    return statistics.median(rates)


def prefill_ms(gen: Generator, n: int) -> float:
    ids = torch.randint(5, gen.cfg.vocab_size, (n - 1,)).tolist()
    times = []
    for _ in range(5):
        gen.reset_cache()
        t0 = time.perf_counter()
        with torch.inference_mode():
            gen._prefill([0, *ids], 1)  # the engine's prefill path: cache fill + last-position logits
        synchronize(gen.plan.device)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="micro,tiny")
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    p = plan(args.device)
    print(f"device: {p.describe()}  torch {torch.__version__}  threads {torch.get_num_threads()}")
    print(f"cpu: {cpu_model()}  AMX: {'yes' if has_amx() else 'no'}")
    print(
        f"{'model':6} {'params':>8} {'decode tok/s':>13} {'plain fp32 tok/s':>17} {'speedup':>8} {'prefill ms (tokens)':>20}"
    )
    for name in args.sizes.split(","):
        cfg = preset(name)
        model = build_model(cfg).to(p.device, p.weight_dtype).eval()
        gen = Generator(LoadedModel(model, _FakeVocabTokenizer(cfg.vocab_size), cfg, None, {}), p)  # type: ignore[arg-type]
        prompt = torch.randint(5, cfg.vocab_size, (64,)).tolist()
        n = min(args.tokens, cfg.context_length - 64)
        rate = engine_decode_rate(gen, prompt, n)
        plain_model = build_model(cfg).to(p.device).float()
        plain = plain_eager_decode_rate(plain_model, torch.tensor([prompt], device=p.device), n)
        n_prefill = min(512, cfg.context_length)
        pf = prefill_ms(gen, n_prefill)
        print(
            f"{name:6} {model.num_params() / 1e6:7.1f}M {rate:13.0f} {plain:17.0f} {rate / plain:7.2f}x "
            f"{pf:12.1f} ({n_prefill})"
        )


if __name__ == "__main__":
    main()
