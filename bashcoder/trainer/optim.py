"""The optimizer: AdamW, or Muon for the hidden matrices with AdamW for the rest; torch's own implementations.

`adamw`: AdamW over every parameter, decay on matrices only, fused where the
device has it. `muon`: torch.optim.Muon (Jordan et al. 2024,
https://kellerjordan.github.io/posts/muon/) for the 2-D weights inside the
transformer blocks, AdamW for the embedding (tied to the output head) and
the norm gains, as Muon's authors prescribe. Muon runs with Moonshot's
`match_rms_adamw` learning-rate adjustment (Liu et al. 2025, "Muon is
Scalable for LLM Training"), which scales each update to AdamW's RMS, so
one learning rate and one schedule drive both halves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn

from bashcoder.engine.device import fused_adamw_supported, has_amx
from bashcoder.trainer.config import OPTIMIZERS

BETAS = (0.9, 0.95)  # beta2 0.95 rather than 0.999: steadier with the small batches we train on
EPS = 1e-8
MUON_MOMENTUM = 0.95  # the published default


def _is_embedding(name: str) -> bool:
    return name.endswith("wte.weight")


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
        is_matrix = p.dim() >= 2 and not _is_embedding(name)
        (decay if is_matrix else keep).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": keep, "weight_decay": 0.0},
    ]


class MuonAdamW:
    """Muon and AdamW stepped together, seen by the training loop as one optimizer.

    `param_groups` lists Muon's groups first, then AdamW's (the same dicts,
    so setting a group's `lr` reaches the optimizer that owns it). The state
    dict is torch's format with AdamW's parameter indices shifted past
    Muon's, so train_state/ stores and restores it like a single optimizer's.
    """

    def __init__(self, muon: torch.optim.Muon, adamw: torch.optim.AdamW) -> None:
        self.parts = (muon, adamw)

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [g for part in self.parts for g in part.param_groups]

    def step(self) -> None:
        for part in self.parts:
            part.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for part in self.parts:
            part.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        state: dict[int, Any] = {}
        groups: list[dict[str, Any]] = []
        offset = 0
        for part in self.parts:
            sd = part.state_dict()
            state.update({idx + offset: value for idx, value in sd["state"].items()})
            for group in sd["param_groups"]:
                groups.append({**group, "params": [idx + offset for idx in group["params"]]})
            offset += sum(len(g["params"]) for g in part.param_groups)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups: Iterator[dict[str, Any]] = iter(state_dict["param_groups"])
        offset = 0
        for part in self.parts:
            count = sum(len(g["params"]) for g in part.param_groups)
            mine = [next(groups) for _ in part.param_groups]
            part.load_state_dict(
                {
                    "state": {
                        int(idx) - offset: value
                        for idx, value in state_dict["state"].items()
                        if offset <= int(idx) < offset + count
                    },
                    "param_groups": [{**g, "params": [int(i) - offset for i in g["params"]]} for g in mine],
                }
            )
            offset += count


Optimizer = torch.optim.AdamW | MuonAdamW


def newton_schulz_fp32(
    grad: torch.Tensor, ns_coefficients: tuple[float, float, float], ns_steps: int, eps: float
) -> torch.Tensor:
    """torch.optim.Muon's orthogonalisation (`torch.optim._muon._zeropower_via_newtonschulz`) in float32.

    torch runs the Newton-Schulz iteration in bfloat16, which a CPU without
    AMX emulates: on this project's 2-core AMD EPYC (AVX2) one 1536x384
    orthogonalisation took 16 s against under 1 s in float32, which would make
    a Muon step of the tiny model minutes long. Same iteration, same
    coefficients (Jordan et al. 2024), higher precision; grad (m, n) in, the
    orthogonalised update (m, n) out. Muon itself (momentum, Nesterov, the
    learning-rate adjustment, weight decay) stays torch's.
    """
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    a, b, c = ns_coefficients
    x = grad.float()
    if grad.size(0) > grad.size(1):
        x = x.T
    x = x / x.norm().clamp(min=eps)  # spectral norm at most 1
    for _ in range(ns_steps):
        gram = x @ x.T
        update = torch.addmm(gram, gram, gram, beta=b, alpha=c)
        x = torch.addmm(x, update, x, beta=a)
    if grad.size(0) > grad.size(1):
        x = x.T
    return x.to(grad.dtype)


def use_fp32_newton_schulz(device: torch.device) -> bool:
    """Whether torch's bf16 Newton-Schulz must be replaced on `device`: CPUs without AMX emulate bf16."""
    return device.type == "cpu" and not has_amx()


def _patch_muon_for(device: torch.device) -> None:
    import torch.optim._muon as muon_impl

    if use_fp32_newton_schulz(device) and muon_impl._zeropower_via_newtonschulz is not newton_schulz_fp32:
        muon_impl._zeropower_via_newtonschulz = newton_schulz_fp32


def build_optimizer(
    model: nn.Module, lr: float, weight_decay: float, device: torch.device, kind: str = "adamw"
) -> Optimizer:
    """The optimizer named `kind` ("adamw" or "muon") over `model`'s parameters.

    ValueError for another name (TrainConfig validates the option first).
    """
    fused = fused_adamw_supported(device)
    if kind == "adamw":
        return torch.optim.AdamW(
            param_groups(model.named_parameters(), weight_decay), lr=lr, betas=BETAS, eps=EPS, fused=fused
        )
    if kind != "muon":
        raise ValueError(f"unknown optimizer {kind!r}; choose one of {', '.join(OPTIMIZERS)}")
    hidden: list[nn.Parameter] = []
    rest: list[nn.Parameter] = []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (hidden if p.dim() == 2 and not _is_embedding(name) else rest).append(p)
    _patch_muon_for(device)
    muon = torch.optim.Muon(
        hidden, lr=lr, weight_decay=weight_decay, momentum=MUON_MOMENTUM, adjust_lr_fn="match_rms_adamw"
    )
    adamw = torch.optim.AdamW(
        [{"params": rest, "weight_decay": 0.0}], lr=lr, betas=BETAS, eps=EPS, fused=fused
    )
    return MuonAdamW(muon, adamw)
