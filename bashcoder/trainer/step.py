"""One optimizer step: accumulate gradients over micro-batches, clip, update.

Kept apart from the loop so the throughput benchmark times exactly the code
that trains.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from bashcoder.engine.device import DevicePlan, autocast
from bashcoder.engine.errors import BashcoderError

Batch = tuple[torch.Tensor, torch.Tensor]


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy; logits (B, T, V) in any dtype, computed in fp32."""
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())


class LossModel(nn.Module):
    """The model and its loss as one module.

    Compiled as one graph, the fp32 cast, log-softmax and NLL fuse with the
    head instead of materialising (B, T, V) logits three times; and DDP's hooks
    see the whole forward.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return lm_loss(self.model(x), y)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def train_step(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    next_batch: Callable[[], Batch],
    plan: DevicePlan,
    accum: int = 1,
    grad_clip: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Run `accum` micro-batches through `net` (a LossModel, maybe compiled or DDP-wrapped) and one update.

    Returns the mean loss and the pre-clip gradient norm as device tensors
    (reading them forces a sync, so the caller does it only when logging).
    Under DDP gradients are all-reduced on the last micro-batch only.
    """
    total = torch.zeros((), device=plan.device)
    for micro in range(accum):
        x, y = next_batch()
        last = micro == accum - 1
        no_sync = getattr(net, "no_sync", None)
        sync_ctx = no_sync() if no_sync is not None and not last else contextlib.nullcontext()
        with sync_ctx:
            with autocast(plan.device, plan.train_autocast):
                loss = net(x, y) / accum
            loss.backward()
        total += loss.detach()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    norm = torch.nn.utils.clip_grad_norm_(params, grad_clip) if grad_clip > 0 else None
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total, norm


def compile_by_default(device: torch.device) -> bool:
    """Whether `--compile` is on when not given: wherever it was measured to pay.

    CUDA: fuses the elementwise work around the matmuls. CPU: the same fusion
    (RMSNorm, rotary, GELU, the fp32 loss) took tiny from a median 524 to 592
    tokens/s (fp32, batch 8 x 512, 2 shared Xeon cores, eager and compiled
    steps interleaved) for ~45 s of compiling once; it needs a C++ compiler,
    which inductor looks for as $CXX or g++. MPS: inductor's Metal backend is
    still experimental, so off.
    """
    if device.type == "cuda":
        return True
    if device.type == "cpu":
        return shutil.which(os.environ.get("CXX", "g++")) is not None
    return False


def check_compile(requested: bool | None, device: torch.device) -> None:
    """BashcoderError before any work when --compile was asked for on a CPU without a C++ compiler
    (torch's inductor failed only at the first step, in a 100-line traceback)."""
    cxx = os.environ.get("CXX", "g++")
    if requested and device.type == "cpu" and shutil.which(cxx) is None:
        raise BashcoderError(
            f"--compile on CPU needs a C++ compiler ({cxx} is not on PATH); install one "
            "(e.g. apt-get install g++, or set CXX) or drop --compile."
        )


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def out_of_memory_error(batch_size: int, seq_len: int, accum: int, device: torch.device) -> BashcoderError:
    smaller = max(1, batch_size // 2)
    return BashcoderError(
        f"out of memory on {device} with --batch-size {batch_size} x {seq_len} tokens; pass --batch-size {smaller} "
        f"--grad-accum {accum * batch_size // smaller} (same tokens per step), or a smaller --context."
    )
