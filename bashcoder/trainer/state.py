"""`train_state/`: everything needed to continue a run exactly, with no pickle anywhere.

```
train_state/
  LATEST                 name of the complete checkpoint below (replaced atomically)
  step-00001000/
    model.safetensors    latest weights, fp32 (the model directory holds the *best* ones)
    optimizer.safetensors  AdamW moments and step counts, keyed state.<param>.<name>
    state.json           step, config, optimizer hyper-parameters, per-rank RNG and data cursor
```
A checkpoint is written in a fresh directory and published by replacing
LATEST, so a kill at any moment leaves the previous checkpoint intact: the
run loses at most one save interval. Tensors go through safetensors and
everything else through JSON; `torch.load` is never called.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from bashcoder.engine.errors import BashcoderError

STATE_DIR = "train_state"
LATEST = "LATEST"
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
JSON_FILE = "state.json"
STATE_FORMAT = 1


@dataclass
class TrainState:
    """A loaded checkpoint."""

    payload: dict[str, object]
    """The JSON part: step, config, RNG states, data cursors, ..."""
    model: dict[str, torch.Tensor]
    """Model state dict (fp32, CPU)."""
    optimizer: dict[str, object]
    """An optimizer state dict ready for `load_state_dict`."""

    @property
    def step(self) -> int:
        return int(self.payload["step"])  # type: ignore[call-overload]


def has_train_state(out_dir: Path) -> bool:
    """Whether `out_dir` holds a run's saved state: its LATEST pointer, or a `step-*` checkpoint
    without one (a lost pointer must not let a new run start there and delete the checkpoint)."""
    root = out_dir / STATE_DIR
    return (root / LATEST).is_file() or any(p.is_dir() for p in root.glob("step-*"))


def _optimizer_parts(state: dict[str, object]) -> tuple[dict[str, torch.Tensor], dict[str, object]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, object]] = {}
    for idx, entry in state["state"].items():  # type: ignore[attr-defined]
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[name] = value
    groups = []
    for group in state["param_groups"]:  # type: ignore[attr-defined]
        clean = {k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items()}
        bad = [k for k, v in clean.items() if isinstance(v, torch.Tensor)]
        if bad:
            raise TypeError(f"tensor-valued optimizer hyper-parameters {bad} are not supported")
        groups.append(clean)
    return tensors, {"param_groups": groups, "scalars": scalars}


def save_train_state(
    out_dir: Path,
    model_state: dict[str, torch.Tensor],
    optimizer_state: dict[str, object],
    payload: dict[str, object],
) -> Path:
    """Write a checkpoint for `payload['step']` and publish it; returns its directory."""
    root = out_dir / STATE_DIR
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{int(payload['step']):08d}"  # type: ignore[call-overload]
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        save_file(
            {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model_state.items()},
            str(tmp / MODEL_FILE),
        )
        tensors, rest = _optimizer_parts(optimizer_state)
        save_file(tensors, str(tmp / OPTIMIZER_FILE))
        body = {"format": STATE_FORMAT, **payload, "optimizer": rest}
        (tmp / JSON_FILE).write_text(json.dumps(body, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        final = root / name
        if final.exists():  # the same step saved again after a resume: replace it
            shutil.rmtree(final)
        os.replace(tmp, final)
        pointer = root / f".{LATEST}.tmp"
        pointer.write_text(name + "\n", encoding="utf-8")
        os.replace(pointer, root / LATEST)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for stale in root.iterdir():  # older checkpoints and leftovers of killed writes
        if stale.is_dir() and stale.name != name:
            shutil.rmtree(stale, ignore_errors=True)
    return root / name


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        with safe_open(str(path), framework="pt") as fh:
            return {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise BashcoderError(
            f"{path} is unreadable ({str(exc).splitlines()[0][:80]}); the training state is damaged, "
            "start again in a new --out."
        ) from exc


def _read_body(checkpoint: Path) -> dict[str, Any] | None:
    try:
        body = json.loads((checkpoint / JSON_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _checkpoint(root: Path, warn: bool) -> tuple[str, dict[str, Any]]:
    """The name and JSON of the checkpoint LATEST names; when LATEST is missing or names one that is
    gone or unreadable (a copy cut short, a hand edit), the newest readable `step-*` one (said on
    stderr when `warn`). BashcoderError when there is none, or it is of another format."""
    try:
        name = (root / LATEST).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    body = _read_body(root / name) if name and "/" not in name else None
    if body is None:
        found = (
            sorted(p.name for p in root.glob("step-*") if _read_body(p) is not None) if root.is_dir() else []
        )
        if not found:
            raise BashcoderError(
                f"no readable training state in {root}; drop --resume to start a new run, or pick the right --out."
            )
        if warn:
            said = f"names {name}, which is missing or unreadable" if name else "is missing or unreadable"
            print(
                f"warning: {root / LATEST} {said}; resuming from {found[-1]}, the newest checkpoint there.",
                file=sys.stderr,
            )
        name = found[-1]
        body = _read_body(root / name)
        assert body is not None
    if body.get("format") != STATE_FORMAT:
        raise BashcoderError(
            f"{root / name} was written by another bashcoder version; start a new run in a new --out."
        )
    return name, body


def saved_config(out_dir: Path) -> dict[str, object]:
    """The options of the run whose state `out_dir` holds, read from its JSON alone (no tensors):
    for checking --resume's options before the data is prepared."""
    config = _checkpoint(out_dir / STATE_DIR, warn=False)[1].get("config")
    return config if isinstance(config, dict) else {}


def load_train_state(out_dir: Path) -> TrainState:
    """The run's training state (see `_checkpoint` for which checkpoint). BashcoderError when there
    is none or it is unreadable."""
    root = out_dir / STATE_DIR
    name, body = _checkpoint(root, warn=True)
    model = _read_safetensors(root / name / MODEL_FILE)
    tensors = _read_safetensors(root / name / OPTIMIZER_FILE)
    rest = body.pop("optimizer")
    state: dict[int, dict[str, object]] = {}
    for key, value in tensors.items():
        _, idx, field = key.split(".", 2)
        state.setdefault(int(idx), {})[field] = value
    for idx, scalars in rest["scalars"].items():
        state.setdefault(int(idx), {}).update(scalars)
    return TrainState(body, model, {"state": state, "param_groups": rest["param_groups"]})


def rng_snapshot(device: torch.device) -> dict[str, str | None]:
    """This process's torch RNG states as base64 text (the data sampler's RNG is saved separately)."""
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return {
        "torch_cpu": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode("ascii"),
        "torch_cuda": base64.b64encode(cuda.numpy().tobytes()).decode("ascii") if cuda is not None else None,
    }


def restore_rng(snapshot: dict[str, str | None], device: torch.device) -> None:
    def decode(text: str) -> torch.Tensor:
        return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)

    if snapshot.get("torch_cpu"):
        torch.set_rng_state(decode(snapshot["torch_cpu"]))  # type: ignore[arg-type]
    if device.type == "cuda" and snapshot.get("torch_cuda"):
        torch.cuda.set_rng_state(decode(snapshot["torch_cuda"]), device)  # type: ignore[arg-type]
