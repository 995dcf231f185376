"""Export the model's forward on a KV cache to ONNX graphs, built once per weights and cached.

Owns the graphs' contract (inputs, outputs, shapes), how they are traced from
the model's own blocks (`CachedForward`: only the attention kernel is new),
the int8 variant, and where the files live:
`$XDG_CACHE_HOME/bashcoder/onnx/<hash>/`, keyed by the weights, the shape and
`GRAPH_VERSION`, so a new model pays the export once and later starts do not.
Running the graphs is `runtime`'s job; choosing to is `device`'s.

Two graphs, both giving the logits of the last position and the keys and
values of the new positions (the caller writes those into its cache):
- `prefill`: an empty cache; causal attention over the new positions only.
- `step`: new positions after `past` cache slots, whose whole buffer (every
  slot, filled or not) is an input that ONNX Runtime reads in place; a bias
  input hides the slots not filled yet.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bashcoder.engine.device import import_onnxruntime
from bashcoder.engine.model import Transformer, causal_attention, rms_norm

log = logging.getLogger(__name__)

GRAPH_VERSION = 5
"""Bump when the graphs' inputs, outputs or math change: older exports then go unused (5: GELU as
ONNX Runtime's FastGelu, which version 4 meant to be and was not; 3: the last block computes the final row only; 2 was an opset-20 A/B build
that never landed)."""
MANIFEST = "manifest.json"
GRAPHS = ("prefill", "step")
OPSET = 17


class CachedForward(nn.Module):
    """`Transformer.forward` on a cache as a pure function of its inputs, for tracing.

    Inputs: idx (B, T) int64; cos, sin (T, hs/2) fp32, the rotary tables at
    the new positions; for `step` also bias (T, S + T) fp32, 0 where a query
    may look and -inf elsewhere, over the S cache slots then the T new
    positions, and past_k_i, past_v_i (B, nh, S, hs) fp32 for each layer i.
    Outputs: logits (B, V) at the last position; new_k, new_v (L, B, nh, T, hs).
    """

    def __init__(self, model: Transformer, with_past: bool) -> None:
        super().__init__()
        self.model = model
        self.with_past = with_past

    def forward(self, idx: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, *rest: torch.Tensor):  # noqa: ANN201
        bias, past = (rest[0], rest[1:]) if self.with_past else (None, ())
        keys: list[torch.Tensor] = []
        values: list[torch.Tensor] = []

        def kernel(layer: int):  # noqa: ANN202 - an `Attend`
            def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
                keys.append(k)
                values.append(v)
                if bias is None:
                    return causal_attention(q, k, v)
                return past_attention(q, k, v, past[2 * layer], past[2 * layer + 1], bias)

            return attend

        m = self.model
        x = F.embedding(idx, m.wte.weight)  # (B, T, C)
        last = len(m.blocks) - 1
        for i, block in enumerate(m.blocks):
            x = block(x, cos, sin, kernel(i), rms_norm, last_only=i == last)
        x = rms_norm(x[:, -1], m.norm.weight, m.cfg.norm_eps)
        return F.linear(x, m.wte.weight), torch.stack(keys), torch.stack(values)


def past_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    past_k: torch.Tensor,
    past_v: torch.Tensor,
    bias: torch.Tensor,
) -> torch.Tensor:
    """q, k, v (B, nh, T, hs) of the new positions over past_k/v (B, nh, S, hs) and themselves
    (q may be the final position's alone, (B, nh, 1, hs): the last block's).

    The scores of the past slots and of the new positions are computed apart
    and joined, so the cache buffer is read where it lies rather than copied
    into a concatenation every step.
    """
    S = past_k.shape[2]
    if q.shape[2] == 1:  # the last block's final query alone: its row of the bias
        bias = bias[-1:]
    q = q * q.shape[-1] ** -0.5
    scores = torch.cat((q @ past_k.transpose(-1, -2), q @ k.transpose(-1, -2)), dim=-1) + bias
    p = scores.softmax(dim=-1)  # (B, nh, T, S + T)
    return p[..., :S] @ past_v + p[..., S:] @ v


def input_names(model: Transformer, graph: str) -> list[str]:
    names = ["idx", "cos", "sin"]
    if graph == "step":
        names.append("bias")
        names += [f"past_{kv}_{i}" for i in range(model.cfg.n_layer) for kv in "kv"]
    return names


def weights_hash(model: Transformer) -> str:
    """Hex digest of the config, the fp32 weights, `GRAPH_VERSION` and `OPSET`: the export's cache key."""
    h = hashlib.blake2b(digest_size=16)
    # The opset too: an export at another opset (an A/B build) must not pass for this one.
    key = {"graph": GRAPH_VERSION, "opset": OPSET, "model": model.cfg.to_dict()}
    h.update(json.dumps(key, sort_keys=True).encode())
    for name, tensor in model.state_dict().items():
        h.update(name.encode())
        h.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()


def cache_root() -> Path:
    """$XDG_CACHE_HOME/bashcoder/onnx (default ~/.cache/bashcoder/onnx)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bashcoder" / "onnx"


def writable_cache_root() -> Path:
    """`cache_root()`, or this user's private folder in the temporary directory when it cannot be
    created or written (an unwritable or missing HOME), said in one log line: the graphs are then
    kept there (until the temporary directory is cleared) and this session runs on ONNX Runtime
    all the same. A relative XDG_CACHE_HOME is ignored, as the XDG spec asks."""
    root = cache_root()
    if not root.is_absolute():
        root = Path.home() / ".cache" / "bashcoder" / "onnx"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK | os.X_OK):
            return root
        reason = "not writable"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    fallback = private_temp_root()
    log.warning(
        "cannot keep the ONNX graphs in %s (%s); using %s instead: "
        "set XDG_CACHE_HOME to a writable folder to keep them between reboots.",
        root,
        reason,
        fallback,
    )
    return fallback


def private_temp_root() -> Path:
    """`$TMPDIR/bashcoder-onnx-<uid>`, made mode 0700, reused by every later session of this user
    (a new folder per session left ~130 MB behind each time). A path someone else made, a link,
    or one open to others is not trusted (it could be planted): a fresh mkdtemp folder then,
    removed when the process exits."""
    path = Path(tempfile.gettempdir()) / f"bashcoder-onnx-{os.getuid()}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return _temporary_root()
    st = path.lstat()
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077:
        return path
    log.warning("%s is not this user's private folder; not using it", path)
    return _temporary_root()


def _temporary_root() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bashcoder-onnx-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


KEEP_EXPORTS = 4
"""Graph folders kept per cache root (~70-260 MB each for tiny): the ones used last."""
_STALE_TEMP_S = 3600.0


def prune(root: Path, keep: int = KEEP_EXPORTS) -> None:
    """Remove all but the `keep` graph folders of `root` used last (a folder's manifest is touched
    at each use), and export folders left half-written over an hour ago by a process that died.
    Best effort: a folder that cannot be removed is left."""
    exports, now = [], time.time()
    for entry in root.iterdir() if root.is_dir() else ():
        try:
            if entry.name.startswith(".") and now - entry.stat().st_mtime > _STALE_TEMP_S:
                shutil.rmtree(entry, ignore_errors=True)
            elif (entry / MANIFEST).is_file():
                exports.append(((entry / MANIFEST).stat().st_mtime, entry))
        except OSError:
            continue
    for _, entry in sorted(exports, reverse=True)[keep:]:
        log.info("removing the ONNX graphs of a model not used lately: %s", entry)
        shutil.rmtree(entry, ignore_errors=True)


def graph_file(directory: Path, graph: str, int8: bool = False) -> Path:
    return directory / f"{graph}{'.int8' if int8 else ''}.onnx"


def is_complete(directory: Path, digest: str) -> bool:
    """Whether `directory` holds this version's fp32 graphs for these weights (a stale one does not)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("version") != GRAPH_VERSION or manifest.get("hash") != digest:
        return False
    return all(graph_file(directory, g).is_file() for g in GRAPHS)


def ensure_exported(model: Transformer, int8: bool = False, root: Path | None = None) -> Path:
    """The directory of this model's graphs, exporting them first if they are missing or stale.

    The export (tiny: ~10-20 s on a busy 2-core CPU; int8 adds ~15 s) writes
    into a temporary sibling that is renamed into place, so a reader never
    sees half a graph. Raises whatever the exporter raises; the caller falls
    back to torch.
    """
    if model.wte.weight.dtype != torch.float32:
        raise ValueError(f"the graphs are exported from fp32 weights, not {model.wte.weight.dtype}")
    digest = weights_hash(model)
    root = root or writable_cache_root()
    directory = root / digest
    if is_complete(directory, digest):
        with contextlib.suppress(OSError):  # what `prune` keeps: the graphs used last
            os.utime(directory / MANIFEST)
    else:
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{digest}.", dir=directory.parent))
        try:
            for graph in GRAPHS:
                export_graph(model, graph, graph_file(tmp, graph))
            manifest = {"version": GRAPH_VERSION, "hash": digest, "torch": torch.__version__, "opset": OPSET}
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            if directory.exists() and not is_complete(directory, digest):  # stale: replace it whole
                shutil.rmtree(directory, ignore_errors=True)
            try:
                os.replace(tmp, directory)
            except OSError:  # another process finished the same export first: use its graphs
                if not is_complete(directory, digest):
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        prune(root)
    for graph in GRAPHS if int8 else ():
        dest = graph_file(directory, graph, int8=True)
        if not dest.is_file():
            part = dest.with_name(f".{dest.name}.{os.getpid()}")
            try:
                quantize_int8(graph_file(directory, graph), part)
                os.replace(part, dest)
            finally:
                part.unlink(missing_ok=True)
    return directory


def export_graph(model: Transformer, graph: str, path: Path) -> None:
    """Trace `CachedForward` for `graph` ('prefill' or 'step') into an ONNX file at `path`.

    Batch and new-token counts are dynamic; the cache has the context's S slots.
    Uses torch's TorchScript exporter: it needs no package beyond `onnx`
    (the newer exporter needs onnxscript) and traced this model exactly.
    """
    cfg = model.cfg
    B, T, S = 1, 2, cfg.context_length
    args: list[torch.Tensor] = [torch.zeros(B, T, dtype=torch.long), model.rope_cos[:T], model.rope_sin[:T]]
    names = input_names(model, graph)
    dynamic = {"idx": {0: "batch", 1: "new"}, "cos": {0: "new"}, "sin": {0: "new"}}
    if graph == "step":
        args.append(torch.zeros(T, S + T))
        dynamic["bias"] = {0: "new", 1: "slots"}
        for name in names[4:]:
            args.append(torch.zeros(B, cfg.n_head, S, cfg.head_dim))
            dynamic[name] = {0: "batch"}
    dynamic |= {"logits": {0: "batch"}, "new_k": {1: "batch", 3: "new"}, "new_v": {1: "batch", 3: "new"}}
    with warnings.catch_warnings(), torch.no_grad(), _fast_gelu():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(
            CachedForward(model, with_past=graph == "step"),
            tuple(args),
            str(path),
            dynamo=False,
            input_names=names,
            output_names=["logits", "new_k", "new_v"],
            dynamic_axes=dynamic,
            opset_version=OPSET,
        )


@contextlib.contextmanager
def _fast_gelu() -> Iterator[None]:
    """Export the MLP's tanh GELU as ONNX Runtime's fused FastGelu (com.microsoft, the same
    tanh formula) for the duration of an export, instead of its eight elementwise ops over the
    (T, ffn_hidden) activations, which ONNX Runtime does not fuse from torch's opset-17 export.
    Measured on the shipped tiny model (2-core AMD EPYC, 3 interleaved A/B runs of 15, the
    version-4 graphs, which still had the eight ops, against version 5): 511-token prefill
    112.0 -> 108.0, 123.0 -> 115.3, 115.4 -> 111.3 ms. A test checks the graphs hold it."""
    from torch.onnx import (
        register_custom_op_symbolic,
        symbolic_helper,
        symbolic_opset9,
        unregister_custom_op_symbolic,
    )

    # parse_args turns the traced `approximate` argument (a graph value) into the str compared
    # below; without it the comparison never held and every GELU went the elementwise way.
    @symbolic_helper.parse_args("v", "s")
    def fast_gelu(g: Any, x: Any, approximate: str = "none") -> Any:
        if approximate != "tanh":  # the exact (erf) GELU is not what FastGelu computes: torch's own
            return symbolic_opset9.gelu(g, x, approximate)
        out = g.op("com.microsoft::FastGelu", x)
        out.setType(x.type())  # its shape is its input's (else the exporter warns on stderr)
        return out

    register_custom_op_symbolic("aten::gelu", fast_gelu, OPSET)
    try:
        yield
    finally:
        unregister_custom_op_symbolic("aten::gelu", OPSET)


def quantize_int8(src: Path, dest: Path) -> None:
    """Int8 dynamic quantisation of the weight matrices, per output channel (activations per call).

    Measured on the shipped tiny model over 132 contexts cut from 23 real
    scripts, against fp32 (next-token top-1 agreement / 12-token greedy
    continuations identical): unsigned per-channel 99.2% / 91.7% (max logit
    difference 0.24); unsigned per-tensor 96.2% / 86.4%; signed per-tensor
    96.2% / 85.6%; signed with reduce_range 98.5% / 72.0%. Unsigned weights
    also avoid the AVX2 trap: u8 x s8 products summed in 16 bits (vpmaddubsw)
    can saturate with signed weights, which elsewhere gave 40% agreement.
    """
    import_onnxruntime()  # telemetry off before the library loads
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # It logs "Please consider to run pre-processing before quantization" through the root
    # logger, once per graph: advice for image models, printed on the user's terminal.
    quiet = _DropMessage("Please consider to run pre-processing")
    logging.getLogger().addFilter(quiet)
    try:
        quantize_dynamic(
            str(src),
            str(dest),
            weight_type=QuantType.QUInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    finally:
        logging.getLogger().removeFilter(quiet)


class _DropMessage(logging.Filter):
    """Drops log records whose message starts with `prefix`."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)
