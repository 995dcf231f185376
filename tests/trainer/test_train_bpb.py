from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bashcoder.engine.config import preset
from bashcoder.engine.device import plan
from bashcoder.engine.model import build_model
from bashcoder.engine.tokenizer import CharTokenizer
from bashcoder.trainer.evaluate import eval_starts, evaluate
from bashcoder.trainer.metrics import bits_per_byte, flops_per_token
from bashcoder.trainer.prepare import token_byte_lengths


def test_bits_per_byte_by_hand() -> None:
    # 12 bytes predicted at 0.5 nats each over 6 tokens: 3 nats = 3 / ln 2 bits = 4.328 bits; per byte 0.3607.
    assert bits_per_byte(6 * 0.5, 12) == pytest.approx(3 / math.log(2) / 12)
    # A uniform guess over 256 byte values costs exactly 8 bits per byte.
    assert bits_per_byte(100 * math.log(256), 100) == pytest.approx(8.0)


def test_flops_per_token_by_hand() -> None:
    cfg = preset("micro", vocab_size=300)
    params = 300 * 64 + 2 * (4 * 64 * 64 + 2 * 64 * 256 + 2 * 64) + 64
    assert flops_per_token(cfg, 128) == 6 * params + 12 * 2 * 64 * 128


@pytest.mark.parametrize("seq_len", [200, 16])  # one window holding everything; many with a padded tail
def test_evaluated_bpb_matches_a_hand_computation(seq_len: int) -> None:
    tok = CharTokenizer()
    text = 'for f in *.sh; do\n\tbash -n "$f" || echo "bad: $f"\ndone  # ünï\n'
    ids = [tok.eot_id, *tok.encode(text)]
    assert len(ids) - 1 <= 200
    model = build_model(preset("micro", vocab_size=tok.vocab_size), seed=3)
    with torch.no_grad():  # by hand: every next token given all before it, bytes straight from the text
        logits = model(torch.tensor([ids[:-1]]))[0]
        nats = F.cross_entropy(logits, torch.tensor(ids[1:]), reduction="sum").item()
    expected = nats / math.log(2) / len(text.encode("utf-8"))
    result = evaluate(
        model, np.array(ids, dtype=np.uint16), token_byte_lengths(tok), seq_len, 3, 10_000, plan("cpu")
    )
    assert result.targets == len(ids) - 1 and result.n_bytes == len(text.encode("utf-8"))
    if seq_len == 200:
        assert result.bpb == pytest.approx(expected, rel=1e-5)
    else:  # shorter windows see less context, so only the accounting is exact
        assert result.bpb == pytest.approx(result.loss_sum / math.log(2) / result.n_bytes)


def test_large_splits_are_sampled_with_fixed_windows() -> None:
    starts = eval_starts(100_001, 100, 5_000)
    assert len(starts) == 50 and starts[0] == 0 and starts[-1] == 100_000 - 100
    assert np.array_equal(starts, eval_starts(100_001, 100, 5_000))
    assert eval_starts(1001, 100, 5_000).tolist() == list(range(0, 1000, 100))
