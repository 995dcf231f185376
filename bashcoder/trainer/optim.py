"""The optimizer: AdamW with decay on matrices only, fused where the device has it."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from bashcoder.engine.device import fused_adamw_supported

BETAS = (0.9, 0.95)  # beta2 0.95 rather than 0.999: steadier with the small batches we train on
EPS = 1e-8


def param_groups(named: Iterable[tuple[str, nn.Parameter]], weight_decay: float) -> list[dict[str, object]]:
    """Two groups: linear-layer matrices decay; norms and the (tied) embedding do not.

    Decaying norm gains pulls them towards zero for no benefit, and decaying
    the embedding shrinks the vectors of rare tokens that seldom get a gradient.
    """
    decay: list[nn.Parameter] = []
    keep: list[nn.Parameter] = []
    for name, p in named:
        if not p.requires_grad:
            continue
        is_matrix = p.dim() >= 2 and not name.endswith("wte.weight")
        (decay if is_matrix else keep).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": keep, "weight_decay": 0.0},
    ]


def build_optimizer(
    model: nn.Module, lr: float, weight_decay: float, device: torch.device
) -> torch.optim.AdamW:
    """AdamW over `model`'s parameters; fused (one kernel for all tensors) where supported."""
    fused = fused_adamw_supported(device)
    return torch.optim.AdamW(
        param_groups(model.named_parameters(), weight_decay), lr=lr, betas=BETAS, eps=EPS, fused=fused
    )
