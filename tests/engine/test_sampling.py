from __future__ import annotations

import torch

from bashcoder.engine.sampling import apply_repetition_penalty, filter_logits, sample


def _logits(seed: int = 0, b: int = 4, v: int = 50) -> torch.Tensor:
    return torch.randn(b, v, generator=torch.Generator().manual_seed(seed)) * 3


def test_temperature_zero_is_argmax() -> None:
    logits = _logits()
    assert torch.equal(sample(logits, None, temperature=0), logits.argmax(-1))


def test_same_seed_repeats_and_different_seeds_differ() -> None:
    logits = _logits(b=64)

    def draw(seed: int) -> torch.Tensor:
        return sample(logits, torch.Generator().manual_seed(seed), temperature=1.0)

    assert torch.equal(draw(7), draw(7))
    assert not torch.equal(draw(7), draw(8))


def test_top_k_never_samples_outside_the_k_best() -> None:
    logits = _logits(b=8)
    allowed = torch.topk(logits, 5, dim=-1).indices
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        ids = sample(logits, gen, temperature=2.0, top_k=5)
        assert all(ids[r] in allowed[r] for r in range(8))


def test_top_p_never_samples_outside_the_nucleus() -> None:
    logits = _logits(b=8)
    probs = torch.softmax(logits, -1)
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        ids = sample(logits, gen, temperature=1.0, top_p=0.6)
        for r in range(8):
            p = probs[r, ids[r]]
            # Everything more likely than the drawn token sums to less than top_p.
            assert probs[r][probs[r] > p].sum() < 0.6


def test_filter_keeps_at_least_the_best_token() -> None:
    logits = _logits()
    out = filter_logits(logits, top_k=1, top_p=0.01)
    assert torch.equal(torch.isfinite(out).sum(-1), torch.ones(4, dtype=torch.long))
    assert torch.equal(out.argmax(-1), logits.argmax(-1))


def test_repetition_penalty_lowers_seen_tokens_only() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5, 3.0]])
    out = apply_repetition_penalty(logits, torch.tensor([[0, 1]]), 2.0)
    assert out.tolist() == [[1.0, -2.0, 0.5, 3.0]]


def test_top_k_sampling_draws_each_of_the_k_best_in_proportion() -> None:
    # The top-k fast path samples among k values: it must keep the masked distribution.
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, 5.0, -3.0]])
    gen = torch.Generator().manual_seed(0)
    draws = torch.stack([sample(logits, gen, temperature=1.0, top_k=3) for _ in range(6000)]).flatten()
    expected = torch.softmax(torch.tensor([5.0, 2.0, 1.0]), -1)
    seen = torch.stack([(draws == i).float().mean() for i in (4, 0, 1)])
    assert set(draws.tolist()) <= {4, 0, 1}
    assert torch.allclose(seen, expected, atol=0.02)


def test_top_k_and_top_p_together_keep_the_nucleus_of_the_k_best() -> None:
    logits = torch.tensor([[0.0, 3.0, 2.9, 2.8, -5.0]])
    probs = torch.softmax(torch.tensor([3.0, 2.9, 2.8]), -1)
    gen = torch.Generator().manual_seed(1)
    draws = {
        int(sample(logits, gen, temperature=1.0, top_k=3, top_p=float(probs[0]) + 0.01)) for _ in range(300)
    }
    assert draws == {1, 2}
