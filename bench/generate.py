"""Generation speed: batch-1 decode tokens/s and 512-token prefill time, per runtime.

For each size (random weights: speed does not depend on what was learned),
on this CPU (model and AMX printed) or the device asked for, it times the
engine's Generator on each inference runtime `engine/device.py` can choose
(eager torch, and on CPU ONNX Runtime fp32 and int8 when onnxruntime is
installed), the rounds of all runtimes interleaved in one process so that
their ratio holds on busy cores. Beside them it prints the rate of a plain
eager fp32 implementation of the same weights (separate q/k/v projections, a
cache grown with torch.cat, full-width logits, autograd bookkeeping on), so
the figures say what the engine adds on this machine. The ONNX graphs are
exported on first use into $XDG_CACHE_HOME/bashcoder/onnx (once per size).

Usage: python bench/generate.py [--sizes micro,tiny,small] [--tokens 200] [--rounds 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import statistics
import time

import torch
import torch.nn.functional as F

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.config import preset
from bashcoder.engine.device import DevicePlan, cpu_model, has_amx, import_onnxruntime, plan, synchronize
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
    """Batch-1 greedy decode tokens/s of the engine: a fresh prefill and decode, less the prefill."""
    gen.reset_cache()
    t0 = time.perf_counter()
    out = gen.generate(prompt, SamplingConfig(temperature=0, max_tokens=n_tokens))[0]
    synchronize(gen.plan.device)
    elapsed = time.perf_counter() - t0
    gen.reset_cache()
    t1 = time.perf_counter()
    gen.generate(prompt, SamplingConfig(temperature=0, max_tokens=1))
    prefill = time.perf_counter() - t1
    return max(1, len(out.token_ids) - 1) / max(1e-9, elapsed - prefill)


def prefill_ms(gen: Generator, ids: list[int]) -> float:
    """Milliseconds of the engine's prefill path (cache fill + last-position logits) from an empty cache."""
    gen.reset_cache()
    t0 = time.perf_counter()
    with torch.inference_mode():
        gen._prefill(ids, 1)
    synchronize(gen.plan.device)
    return (time.perf_counter() - t0) * 1000


def runtimes_for(p: DevicePlan, asked: str | None) -> list[str]:
    """torch, plus on CPU ONNX Runtime fp32 and int8 when onnxruntime is installed."""
    if asked:
        return asked.split(",")
    onnx = p.kind == "cpu" and importlib.util.find_spec("onnxruntime") is not None
    return ["torch", "onnx", "onnx-int8"] if onnx else ["torch"]


def bench_size(name: str, p: DevicePlan, runtimes: list[str], n_tokens: int, rounds: int) -> None:
    cfg = preset(name)
    model = build_model(cfg).to(p.device, p.weight_dtype).eval()
    tok = _FakeVocabTokenizer(cfg.vocab_size)
    gens: dict[str, Generator] = {}
    for rt in runtimes:
        t0 = time.perf_counter()
        gen = Generator(LoadedModel(model, tok, cfg, None, {}), dataclasses.replace(p, runtime=rt))  # type: ignore[arg-type]
        fell_back = rt != "torch" and gen._forward is model
        print(
            f"  {name} {rt}: ready in {time.perf_counter() - t0:.1f} s{' (FELL BACK TO TORCH)' if fell_back else ''}"
        )
        gens[rt] = gen
    prompt = torch.randint(5, cfg.vocab_size, (64,), generator=torch.Generator().manual_seed(0)).tolist()
    long = torch.randint(5, cfg.vocab_size, (min(512, cfg.context_length) - 1,)).tolist()
    n = min(n_tokens, cfg.context_length - 64)
    plain_model = build_model(cfg).to(p.device).float()
    plain_prompt = torch.tensor([prompt], device=p.device)
    for gen in gens.values():  # warm-up: graph and kernel first-call costs
        engine_decode_rate(gen, prompt, 8)
        prefill_ms(gen, [0, *long])
    rates: dict[str, list[float]] = {rt: [] for rt in ["plain", *gens]}
    prefills: dict[str, list[float]] = {rt: [] for rt in gens}
    for _ in range(rounds):  # interleaved: every runtime sees the same load on busy cores
        rates["plain"].append(plain_eager_decode_rate(plain_model, plain_prompt, n))
        for rt, gen in gens.items():
            rates[rt].append(engine_decode_rate(gen, prompt, n))
            prefills[rt].append(prefill_ms(gen, [0, *long]))

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(rates[a], rates[b], strict=True))

    for rt, r in rates.items():
        vs_torch = f"{ratio(rt, 'torch'):7.2f}x" if "torch" in rates else ""
        pf = f"{statistics.median(prefills[rt]):10.1f}" if rt in prefills else ""
        print(
            f"{name:6} {model.num_params() / 1e6:7.1f}M {rt:10} {statistics.median(r):12.0f} "
            f"{ratio(rt, 'plain'):7.2f}x {vs_torch:>8} {pf:>10}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="tiny,small")
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runtimes", default=None, help="comma-separated; default: all this device offers")
    ap.add_argument("--device", default=None)
    args = ap.parse_args()
    p = plan(args.device)
    ort_version = "not installed"
    if importlib.util.find_spec("onnxruntime") is not None:
        ort_version = import_onnxruntime().__version__
    print(f"device: {p.describe()}  torch {torch.__version__}  onnxruntime {ort_version}")
    print(
        f"cpu: {cpu_model()}  AMX: {'yes' if has_amx() else 'no'}  threads {torch.get_num_threads()}"
        f"  int8 weights: {p.int8_weights}"
    )
    print(
        f"batch-1 greedy decode after a 64-token prompt, {args.tokens} tokens, median of {args.rounds} rounds"
    )
    runtimes = runtimes_for(p, args.runtimes)
    for name in args.sizes.split(","):
        print(
            f"{'model':6} {'params':>8} {'runtime':10} {'decode tok/s':>12} {'x plain':>8} {'x torch':>8} {'prefill ms (512)':>10}"
        )
        bench_size(name, p, runtimes, args.tokens, args.rounds)


if __name__ == "__main__":
    main()
