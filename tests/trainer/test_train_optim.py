from __future__ import annotations

import pytest
import torch

from bashcoder.engine.config import preset
from bashcoder.engine.model import build_model
from bashcoder.trainer.optim import build_optimizer, param_groups
from bashcoder.trainer.schedule import lr_at


def test_schedule_warms_up_then_follows_a_cosine_to_the_floor() -> None:
    lrs = [lr_at(s, 1.0, 10, 110, 0.1) for s in range(130)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:10], strict=False))
    assert all(a >= b for a, b in zip(lrs[10:110], lrs[11:111], strict=False))
    assert lrs[60] == pytest.approx(0.55)  # halfway down the cosine: (1 + 0.1) / 2
    assert lrs[110] == pytest.approx(0.1) and lrs[129] == pytest.approx(0.1)


def test_norms_and_embeddings_get_no_weight_decay() -> None:
    model = build_model(preset("micro", vocab_size=300))
    decay, keep = param_groups(model.named_parameters(), 0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    decayed = {names[id(p)] for p in decay["params"]}
    kept = {names[id(p)] for p in keep["params"]}
    assert decay["weight_decay"] == 0.1 and keep["weight_decay"] == 0.0
    assert decayed | kept == set(names.values()) and not decayed & kept
    assert "wte.weight" in kept and "norm.weight" in kept
    assert all("norm" in n or n == "wte.weight" for n in kept)
    assert all(n.endswith(("qkv.weight", "proj.weight", "fc.weight", "out.weight")) for n in decayed)


def test_cpu_optimizer_is_fused() -> None:
    model = build_model(preset("micro", vocab_size=300))
    opt = build_optimizer(model, 1e-3, 0.1, torch.device("cpu"))
    assert opt.defaults["fused"] is True
    model(torch.zeros(1, 4, dtype=torch.long)).sum().backward()
    opt.step()  # the fused CPU kernel exists in this torch
