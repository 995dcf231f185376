from __future__ import annotations

import pytest
import torch

from bashcoder.engine.config import PRESETS, ModelConfig, preset
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.model import KVCache, build_model


def test_presets_match_the_design() -> None:
    tiny, small = PRESETS["tiny"], PRESETS["small"]
    assert (
        tiny.n_layer,
        tiny.n_embd,
        tiny.n_head,
        tiny.ffn_hidden,
        tiny.context_length,
        tiny.vocab_size,
    ) == (
        6,
        384,
        6,
        1536,
        512,
        8192,
    )
    assert (small.n_layer, small.n_embd, small.n_head, small.ffn_hidden, small.context_length) == (
        12,
        768,
        12,
        3072,
        1024,
    )


@pytest.mark.parametrize("name", ["micro", "tiny"])
def test_parameter_count_formula_matches_the_module(name: str) -> None:
    cfg = preset(name)
    assert build_model(cfg).num_params() == cfg.num_params()


def test_true_parameter_counts() -> None:
    # The README states these; the design's "~50M" for small was wrong.
    assert round(PRESETS["tiny"].num_params() / 1e6, 1) == 13.8
    assert round(PRESETS["small"].num_params() / 1e6, 1) == 91.2


def test_bad_config_is_a_clear_error() -> None:
    with pytest.raises(BashcoderError, match="not divisible"):
        ModelConfig(n_layer=1, n_embd=10, n_head=3, ffn_hidden=8, context_length=8)
    with pytest.raises(BashcoderError, match="unknown model size"):
        preset("huge")


def test_kv_cache_decoding_matches_full_forward() -> None:
    cfg = preset("micro", vocab_size=300)
    model = build_model(cfg, seed=1).eval()
    idx = torch.randint(0, cfg.vocab_size, (2, 50), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = model(idx)
        cache = KVCache.allocate(cfg, 2, torch.device("cpu"), torch.float32)
        parts = [model(idx[:, :20], cache), model(idx[:, 20:33], cache)]  # prefill, then a chunk at an offset
        parts.append(model(idx[:, 33:36], cache))  # a keystroke's few tokens: the plain-op path
        parts += [model(idx[:, t : t + 1], cache) for t in range(36, 50)]  # one token at a time
    assert torch.allclose(full, torch.cat(parts, dim=1), atol=1e-5)
    with torch.no_grad():  # and a few tokens at the very start, last position only
        fresh = KVCache.allocate(cfg, 2, torch.device("cpu"), torch.float32)
        first = model(idx[:, :4], fresh, last_only=True)
    assert torch.allclose(first, full[:, 3:4], atol=1e-5)


@pytest.mark.parametrize(
    "cuts",
    [(30, 45, 46), (3, 5, 40), (12, 40, 41), (1, 2, 3)],
    ids=["prefill, chunk, step", "few, few, chunk", "prefill, chunk, step (2)", "one token at a time"],
)
def test_last_position_only_gives_the_full_forwards_logits_and_cache(cuts: tuple[int, ...]) -> None:
    # The last block computes only the final row when last_only: its logits and every cached
    # key and value must still be the full forward's, whatever kernel (SDPA, plain ops) runs.
    cfg = preset("micro", vocab_size=300)
    model = build_model(cfg, seed=2).eval()
    idx = torch.randint(0, cfg.vocab_size, (2, 50), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        full = model(idx)
        cache = KVCache.allocate(cfg, 2, torch.device("cpu"), torch.float32)
        start = 0
        for end in cuts:
            out = model(idx[:, start:end], cache, last_only=True)
            assert out.shape == (2, 1, cfg.vocab_size)
            assert torch.allclose(out[:, 0], full[:, end - 1], atol=1e-5), (start, end)
            start = end
        ref = KVCache.allocate(cfg, 2, torch.device("cpu"), torch.float32)
        model(idx[:, :end], ref)
    assert torch.allclose(cache.k[:, :, :, :end], ref.k[:, :, :, :end], atol=1e-5)
    assert torch.allclose(cache.v[:, :, :, :end], ref.v[:, :, :, :end], atol=1e-5)


def test_rows_synced_from_row0_continue_like_the_original() -> None:
    cfg = preset("micro", vocab_size=300)
    model = build_model(cfg).eval()
    idx = torch.randint(0, cfg.vocab_size, (1, 30))
    with torch.no_grad():
        cache = KVCache.allocate(cfg, 3, torch.device("cpu"), torch.float32)
        row0 = cache.rows(1)
        model(idx[:, :29], row0)  # a prefill fills row 0 only
        cache.length = row0.length
        cache.copy_row0(range(1, 3), 0, 29)
        out = model(idx[:, 29:].expand(3, 1), cache)
        ref = model(idx)[:, -1]
    for r in range(3):
        assert torch.allclose(out[r, -1], ref[0], atol=1e-5)


def test_truncated_cache_recomputes_the_same_logits() -> None:
    cfg = preset("micro", vocab_size=300)
    model = build_model(cfg).eval()
    a = torch.randint(0, cfg.vocab_size, (1, 40))
    b = a.clone()
    b[0, 30:] = (b[0, 30:] + 1) % cfg.vocab_size
    with torch.no_grad():
        cache = KVCache.allocate(cfg, 1, torch.device("cpu"), torch.float32)
        model(a, cache)
        cache.truncate(30)
        out = model(b[:, 30:], cache)
        assert torch.allclose(out, model(b)[:, 30:], atol=1e-5)


def test_context_overflow_is_refused() -> None:
    cfg = preset("micro", vocab_size=300)
    model = build_model(cfg)
    with pytest.raises(ValueError, match="exceeds the context"):
        model(torch.zeros((1, cfg.context_length + 1), dtype=torch.long))


def test_micro_model_learns(micro_model, bpe_tokenizer, scripts) -> None:  # noqa: ANN001
    ids = torch.tensor([[bpe_tokenizer.eot_id, *bpe_tokenizer.encode(scripts[0])[:120]]])
    with torch.no_grad():
        loss = micro_model.loss(ids[:, :-1], ids[:, 1:]).item()
    assert loss < 2.0  # random init is ln(600) = 6.4


def test_last_position_only_without_a_cache_gives_the_full_forwards_last_logits() -> None:
    # The last block's single query over all keys takes SDPA without a causal mask (top-left
    # alignment would let it see the first key only).
    cfg = preset("micro", vocab_size=300)
    model = build_model(cfg, seed=4).eval()
    idx = torch.randint(0, cfg.vocab_size, (2, 37), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        full, last = model(idx), model(idx, last_only=True)
    assert last.shape == (2, 1, cfg.vocab_size)
    assert torch.allclose(last, full[:, -1:], atol=1e-5)
