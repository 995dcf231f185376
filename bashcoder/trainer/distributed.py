"""Process groups for `torchrun`: who this process is, and the few collectives the loop needs.

Without torchrun's environment (WORLD_SIZE unset or 1) everything here is a
no-op and the trainer runs as one plain process. With it: nccl on CUDA (one
GPU per local rank), gloo on CPU. Collectives carry JSON as byte tensors
rather than pickled objects, in keeping with the no-pickle rule.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

from bashcoder.engine.device import resolve_device
from bashcoder.engine.errors import BashcoderError

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job."""

    rank: int
    """Global rank; rank 0 alone writes files."""
    local_rank: int
    """Rank on this machine; picks the GPU."""
    world_size: int
    """Number of processes."""
    device: torch.device
    """Where this rank computes (and where collectives' tensors live)."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(requested_device: str | None) -> DistInfo:
    """Join torchrun's process group if there is one; resolve this rank's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(requested_device)
    if world <= 1:
        return DistInfo(0, 0, 1, device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = resolve_device(f"cuda:{local_rank}")
        torch.cuda.set_device(device)
        backend = "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise BashcoderError(
            f"distributed training on {device.type} is not supported; use cuda or cpu with torchrun."
        )
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, device_id=device if backend == "nccl" else None)
    return DistInfo(rank, local_rank, world, device)


def shutdown(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(values: list[float], info: DistInfo) -> list[float]:
    """Element-wise sum over ranks (float64)."""
    if not info.enabled:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def any_rank(flag: bool, info: DistInfo) -> bool:
    """True on every rank when it is true on one (so all ranks stop at the same step)."""
    if not info.enabled:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=info.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def _to_bytes_tensor(obj: object, device: torch.device) -> torch.Tensor:
    raw = json.dumps(obj).encode("utf-8")
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).to(device)


def all_gather_json(obj: object, info: DistInfo) -> list[object]:
    """Every rank's JSON-able `obj`, indexed by rank."""
    if not info.enabled:
        return [obj]
    data = _to_bytes_tensor(obj, info.device)
    sizes = [torch.zeros(1, dtype=torch.int64, device=info.device) for _ in range(info.world_size)]
    dist.all_gather(sizes, torch.tensor([len(data)], dtype=torch.int64, device=info.device))
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros(longest, dtype=torch.uint8, device=info.device)
    padded[: len(data)] = data
    bufs = [torch.zeros(longest, dtype=torch.uint8, device=info.device) for _ in range(info.world_size)]
    dist.all_gather(bufs, padded)
    return [
        json.loads(bytes(b[: int(n.item())].cpu().tolist()).decode("utf-8"))
        for b, n in zip(bufs, sizes, strict=True)
    ]


def broadcast_json(obj: object, info: DistInfo) -> object:
    """Rank 0's `obj` on every rank."""
    if not info.enabled:
        return obj
    data = _to_bytes_tensor(obj if info.is_main else None, info.device)
    size = torch.tensor([len(data)], dtype=torch.int64, device=info.device)
    dist.broadcast(size, src=0)
    buf = data if info.is_main else torch.zeros(int(size.item()), dtype=torch.uint8, device=info.device)
    dist.broadcast(buf, src=0)
    return json.loads(bytes(buf.cpu().tolist()).decode("utf-8"))


def run_on_main(fn: Callable[[], T], info: DistInfo) -> T:
    """Run `fn` on rank 0 only and hand its (JSON-able) value to every rank.

    A BashcoderError on rank 0 is raised on every rank; without this the
    other ranks would wait forever at the next collective.
    """
    result: T | None = None
    error: str | None = None
    if info.is_main:
        try:
            result = fn()
        except BashcoderError as exc:
            error = str(exc)
        except BaseException:
            broadcast_json({"error": "rank 0 failed; see its traceback.", "result": None}, info)
            raise
    verdict = broadcast_json({"error": error, "result": result}, info)
    assert isinstance(verdict, dict)
    if verdict.get("error"):
        raise BashcoderError(str(verdict["error"]))
    return verdict["result"]  # type: ignore[no-any-return]
