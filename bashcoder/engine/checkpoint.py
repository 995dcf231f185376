"""The model directory: config.json, tokenizer.json, safetensors weights, card.

```
model-dir/
  config.json                    format version, model config, tokenizer kind, special ids
  tokenizer.json                 HF tokenizers file (or the char tokenizer's marker)
  model.safetensors              or model-0000N-of-0000M.safetensors + model.safetensors.index.json
  README.md                      model card
```
Weights are safetensors only; no pickle is ever read. Loading validates every
file and fails with one line that names the file and the fix. Writes go to a
temporary sibling directory that is renamed into place, so a reader never sees
half a model.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from bashcoder.engine.config import ModelConfig
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.model import Transformer
from bashcoder.engine.tokenizer import SPECIAL_TOKENS, Tokenizer, load_tokenizer

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
WEIGHTS_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
CARD_FILE = "README.md"
DEFAULT_SHARD_BYTES = 16 * 1024 * 1024
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass
class LoadedModel:
    """A model ready to run, with what it was loaded from."""

    model: Transformer
    tokenizer: Tokenizer
    config: ModelConfig
    path: Path
    meta: dict[str, object]
    """The rest of config.json (e.g. training summary), for --info and cards."""


def save_model_dir(
    path: str | Path,
    model: Transformer,
    tokenizer: Tokenizer,
    card: str = "",
    dtype: torch.dtype = torch.float32,
    shard_bytes: int | None = None,
    meta: dict[str, object] | None = None,
) -> Path:
    """Write a model directory atomically; shard weights above `shard_bytes` if given."""
    dest = Path(path)
    if model.cfg.vocab_size != tokenizer.vocab_size:
        raise BashcoderError(
            f"model vocabulary {model.cfg.vocab_size} differs from the tokenizer's {tokenizer.vocab_size}; "
            "build the model with the tokenizer's vocab size."
        )
    dtype_name = next((k for k, v in DTYPES.items() if v == dtype), None)
    if dtype_name is None:
        raise BashcoderError(f"cannot save weights as {dtype}; use float32, float16 or bfloat16.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
        _write_weights(tmp, tensors, shard_bytes)
        tokenizer.save(tmp / TOKENIZER_FILE)
        config = {
            "format_version": FORMAT_VERSION,
            "model": model.cfg.to_dict(),
            "tokenizer": {
                "kind": tokenizer.kind,
                "special_ids": {t: tokenizer.token_id(t) for t in SPECIAL_TOKENS},
            },
            "dtype": dtype_name,
            **(meta or {}),
        }
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        (tmp / CARD_FILE).write_text(card or f"# bashcoder model\n\n{model.num_params():,} parameters.\n")
        _replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _write_weights(directory: Path, tensors: dict[str, torch.Tensor], shard_bytes: int | None) -> None:
    names = sorted(tensors)
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    if shard_bytes is None or total <= shard_bytes:
        save_file({n: tensors[n] for n in names}, str(directory / WEIGHTS_FILE), metadata={"format": "pt"})
        return
    shards: list[list[str]] = [[]]
    size = 0
    for n in names:
        nbytes = tensors[n].numel() * tensors[n].element_size()
        if shards[-1] and size + nbytes > shard_bytes:
            shards.append([])
            size = 0
        shards[-1].append(n)
        size += nbytes
    weight_map: dict[str, str] = {}
    for i, shard in enumerate(shards, start=1):
        fname = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file({n: tensors[n] for n in shard}, str(directory / fname), metadata={"format": "pt"})
        weight_map.update({n: fname for n in shard})
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (directory / INDEX_FILE).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _replace_dir(tmp: Path, dest: Path) -> None:
    """Move `tmp` to `dest`; an existing dest is swapped out, never half-overwritten."""
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
        os.replace(tmp, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, dest)


def read_config(path: str | Path) -> tuple[ModelConfig, dict[str, object]]:
    """Parse and validate `config.json`; returns the model config and the rest."""
    directory = Path(path)
    if not directory.exists():
        raise BashcoderError(
            f"model directory {directory} does not exist; pass --model DIR or train one with bashcoder-train."
        )
    if not directory.is_dir():
        raise BashcoderError(
            f"{directory} is a file, not a model directory; pass the directory that holds config.json."
        )
    cfg_path = directory / CONFIG_FILE
    if not cfg_path.is_file():
        raise BashcoderError(
            f"{cfg_path} is missing; this is not a bashcoder model directory (re-save or retrain it)."
        )
    try:
        raw = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BashcoderError(
            f"{cfg_path} is not valid JSON; the file is corrupt, re-save or retrain the model."
        ) from exc
    if not isinstance(raw, dict) or "model" not in raw:
        raise BashcoderError(f"{cfg_path} has no 'model' section; re-save or retrain the model.")
    version = raw.get("format_version")
    if version != FORMAT_VERSION:
        raise BashcoderError(
            f"{cfg_path} has format version {version!r} but this bashcoder reads version {FORMAT_VERSION}; "
            "upgrade bashcoder or re-save the model."
        )
    try:
        cfg = ModelConfig.from_dict(dict(raw["model"]))
    except TypeError as exc:
        raise BashcoderError(
            f"{cfg_path} has an incomplete model section ({exc}); re-save the model."
        ) from exc
    meta = {k: v for k, v in raw.items() if k != "model"}
    return cfg, meta


def _weight_files(directory: Path) -> dict[str, str]:
    """Tensor name -> file, from the index or the single file."""
    index_path = directory / INDEX_FILE
    if index_path.is_file():
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
            weight_map = dict(index["weight_map"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise BashcoderError(f"{index_path} is corrupt; re-save the model.") from exc
        for fname in sorted(set(weight_map.values())):
            # A shard is a file of this directory: an index naming `../../x` or `/etc/x` would read
            # files anywhere (a downloaded model is untrusted input).
            if not isinstance(fname, str) or Path(fname).name != fname or fname in ("", ".", ".."):
                raise BashcoderError(
                    f"{index_path} names the shard {str(fname)[:80]!r}, which is not a file name in "
                    f"{directory}; a model's shards sit beside its index: re-save the model."
                )
            if not (directory / fname).is_file():
                raise BashcoderError(
                    f"{directory / fname} is missing (named in {INDEX_FILE}); re-download or re-save the model."
                )
        return weight_map
    single = directory / WEIGHTS_FILE
    if not single.is_file():
        pickles = sorted(p.name for p in directory.glob("*") if p.suffix in _PICKLE_SUFFIXES)
        if pickles:
            raise BashcoderError(
                f"{directory} holds {', '.join(pickles[:3])} but no {WEIGHTS_FILE}: pickled weights are never "
                "loaded (loading a pickle can run any code); convert them to safetensors, or retrain."
            )
        raise BashcoderError(
            f"{single} is missing; the model directory has no weights (re-save or retrain it)."
        )
    return {}


_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def read_weights(directory: Path) -> dict[str, torch.Tensor]:
    weight_map = _weight_files(directory)
    files = sorted(set(weight_map.values())) if weight_map else [WEIGHTS_FILE]
    tensors: dict[str, torch.Tensor] = {}
    for fname in files:
        fpath = directory / fname
        try:
            with safe_open(str(fpath), framework="pt") as fh:
                for key in fh.keys():  # noqa: SIM118 - safe_open has no __iter__
                    tensors[key] = fh.get_tensor(key)
        except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
            raise BashcoderError(
                f"{fpath} is truncated or not a safetensors file ({str(exc).splitlines()[0][:80]}); "
                "re-download or re-save the model."
            ) from exc
    if weight_map and set(weight_map) != set(tensors):
        missing = sorted(set(weight_map) - set(tensors))[:3]
        raise BashcoderError(
            f"{directory / INDEX_FILE} names tensors not in the shards {missing}; re-save the model."
        )
    return tensors


def load_model_dir(
    path: str | Path, device: torch.device | str = "cpu", dtype: torch.dtype | None = None
) -> LoadedModel:
    """Load and validate a model directory onto `device` (weights cast to `dtype` if given)."""
    directory = Path(path)
    cfg, meta = read_config(directory)
    tokenizer = load_tokenizer(directory / TOKENIZER_FILE)
    if tokenizer.vocab_size != cfg.vocab_size:
        raise BashcoderError(
            f"{directory / TOKENIZER_FILE} has {tokenizer.vocab_size} tokens but config.json says {cfg.vocab_size}; "
            "the tokenizer belongs to another model, copy the matching one."
        )
    tensors = read_weights(directory)
    model = Transformer(cfg)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        found = [f"{len(missing)} missing, e.g. {missing[0]}" if missing else ""]
        found += [f"{len(unexpected)} not in this model, e.g. {unexpected[0]}" if unexpected else ""]
        raise BashcoderError(
            f"weights in {directory} do not match config.json ({cfg.n_layer} layers; tensors "
            f"{'; '.join(f for f in found if f)}): the weights belong to another model, re-save it."
        )
    for name, tensor in tensors.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise BashcoderError(
                f"tensor {name} in {directory} has shape {tuple(tensor.shape)} but config.json implies "
                f"{tuple(expected[name].shape)}; the weights and config.json belong to different models."
            )
        if not torch.isfinite(tensor.float()).all():
            raise BashcoderError(
                f"tensor {name} in {directory} holds NaN or inf; the checkpoint is corrupt, retrain."
            )
    model.load_state_dict(tensors)
    model.to(device=device, dtype=dtype or torch.float32)
    model.eval()
    return LoadedModel(model, tokenizer, cfg, directory, meta)
