"""Export the model's forward on a KV cache to ONNX graphs, built once per weights and cached.

Owns the graphs' contract (inputs, outputs, shapes), how they are traced from
the model's own blocks (`CachedForward`: only the attention kernel is new),
the int8 variant, and where the files live:
`$XDG_CACHE_HOME/bashcoder/onnx/<hash>/`, keyed by the weights, the shape and
`GRAPH_VERSION`, so a new model pays the export once and later starts do not.
Running the graphs is `runtime`'s job; choosing to is `device`'s.

One graph, `forward`, serves a prefill and a decode step alike: the new
positions' token ids and the cache's lengths in, the last position's logits out.
Each layer's attention is ONNX Runtime's GroupQueryAttention (com.microsoft):
it takes the fused q/k/v projection as it comes, rotates q and k, writes the
new keys and values into the cache buffer in place (its past and present are
one buffer, bound to the caller's cache) and attends over the filled slots
only, causally among the new positions.
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
from bashcoder.engine.model import Transformer, apply_rope, decode_attention, rms_norm

log = logging.getLogger(__name__)

GRAPH_VERSION = 6
"""Bump when the graphs' inputs, outputs or math change: older exports then go unused (6: one graph
whose attention is GroupQueryAttention on the cache in place, instead of a prefill and a step graph
of plain ops; 5: GELU as ONNX Runtime's FastGelu, which version 4 meant to be and was not; 3: the
last block computes the final row only; 2 was an opset-20 A/B build that never landed)."""
MANIFEST = "manifest.json"
GRAPHS = ("forward",)
OPSET = 17


class CachedForward(nn.Module):
    """`Transformer.forward` on a cache as a pure function of its inputs, for tracing.

    Inputs: idx (B, T) int64, the new positions' tokens; seqlens_k (B,)
    int32, the cache's length after them less one, and total_sequence_length
    () int32, that length (GroupQueryAttention's names and conventions);
    past_k_i, past_v_i (B, nh, S, hs) fp32 for each layer i, the whole cache
    buffer (all S slots, filled or not).
    Outputs: logits (B, V) at the last position; present_k_i, present_v_i,
    the same buffers with the new positions written (bind them to the inputs'
    memory: the graph then writes the cache in place).
    """

    def __init__(self, model: Transformer) -> None:
        super().__init__()
        self.model = model

    def forward(self, idx: torch.Tensor, seqlens_k: torch.Tensor, total: torch.Tensor, *past: torch.Tensor):  # noqa: ANN201
        m = self.model
        presents: list[torch.Tensor] = []

        def kernel(layer: int):  # noqa: ANN202 - a `PackedAttend`
            def attend(qkv: torch.Tensor) -> torch.Tensor:
                y, k, v = GroupQueryAttention.apply(
                    qkv,
                    past[2 * layer],
                    past[2 * layer + 1],
                    seqlens_k,
                    total,
                    m.rope_cos,
                    m.rope_sin,
                    m.cfg.n_head,
                )
                presents.extend((k, v))
                return y

            return attend

        x = F.embedding(idx, m.wte.weight)  # (B, T, C)
        last = len(m.blocks) - 1
        for i, block in enumerate(m.blocks):
            x = block.forward_packed(x, kernel(i), rms_norm, last_only=i == last)
        x = rms_norm(x[:, -1], m.norm.weight, m.cfg.norm_eps)
        return (F.linear(x, m.wte.weight), *presents)


class GroupQueryAttention(torch.autograd.Function):
    """ONNX Runtime's GroupQueryAttention (com.microsoft) on a shared past/present buffer, with its
    rotary embedding (not interleaved: pairs (i, i + hs/2), as `apply_rope`) and all heads their own
    keys and values (kv_num_heads = num_heads).

    forward is its reference in torch, run while tracing: qkv (B, T, 3C), past_k/v (B, nh, S, hs),
    seqlens_k (B,) and total () int32, cos/sin (S, hs/2) -> y (B, T, C) and the buffers with the T
    new positions written at total - T. Measured on a 2-core AMD EPYC (AVX2) against the plain ops
    it replaces (tiny's shapes, one layer): a 512-token causal prefill 5.8 -> 4.2 ms, a decode step
    over 64 filled slots 124 -> 58 us; outputs within 1e-6 of torch's.
    """

    @staticmethod
    def forward(  # noqa: ANN205
        ctx,  # noqa: ANN001
        qkv: torch.Tensor,
        past_k: torch.Tensor,
        past_v: torch.Tensor,
        seqlens_k: torch.Tensor,
        total: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        n_head: int,
    ):
        B, T, C3 = qkv.shape
        hs = C3 // 3 // n_head
        end = int(total)
        start = end - T
        x = qkv.view(B, T, 3, n_head, hs).transpose(1, 3)  # (B, nh, 3, T, hs)
        qk = apply_rope(x[:, :, :2], cos[start:end], sin[start:end])
        k, v = past_k.clone(), past_v.clone()
        k[:, :, start:end], v[:, :, start:end] = qk[:, :, 1], x[:, :, 2]
        mask = torch.ones(T, end, dtype=torch.bool).tril(diagonal=start)
        y = decode_attention(qk[:, :, 0], k[:, :, :end], v[:, :, :end], mask)
        return y.transpose(1, 2).reshape(B, T, C3 // 3), k, v

    @staticmethod
    def symbolic(
        g: Any,
        qkv: Any,
        past_k: Any,
        past_v: Any,
        seqlens_k: Any,
        total: Any,
        cos: Any,
        sin: Any,
        n_head: int,
    ):  # noqa: ANN205
        from torch.onnx import symbolic_helper

        none = symbolic_helper._optional_input_placeholder_tensor(g)  # key, value: packed in qkv
        y, k, v = g.op(
            "com.microsoft::GroupQueryAttention",
            qkv,
            none,
            none,
            past_k,
            past_v,
            seqlens_k,
            total,
            cos,
            sin,
            num_heads_i=n_head,
            kv_num_heads_i=n_head,
            do_rotary_i=1,
            rotary_interleaved_i=0,
            outputs=3,
        )
        sizes = qkv.type().varyingSizes()
        y.setType(qkv.type().with_sizes([*sizes[:-1], sizes[-1] // 3 if sizes[-1] else None]))
        k.setType(past_k.type())
        v.setType(past_v.type())
        return y, k, v


def input_names(model: Transformer) -> list[str]:
    return ["idx", "seqlens_k", "total_sequence_length", *past_names(model, "past")]


def past_names(model: Transformer, prefix: str) -> list[str]:
    """`prefix`_k_i, `prefix`_v_i for each layer i, in the graph's order."""
    return [f"{prefix}_{kv}_{i}" for i in range(model.cfg.n_layer) for kv in "kv"]


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
"""Graph folders kept per cache root (tiny: 68 MB, and 27 MB per int8 weight type): the ones used last."""
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


INT8_WEIGHTS = ("u8", "s8")
"""The int8 graphs' weight types: unsigned (any CPU) and signed (CPUs with VNNI or AMX: see
`device.int8_weight_type`)."""


def graph_file(directory: Path, graph: str, int8: str | None = None) -> Path:
    """The fp32 graph's file, or with `int8` ('u8' or 's8') its quantised variant's (each its own
    file: a cache folder may be shared by machines that choose differently)."""
    if int8 is not None and int8 not in INT8_WEIGHTS:
        raise ValueError(f"int8 weights {int8!r}: expected one of {', '.join(INT8_WEIGHTS)}")
    suffix = {None: "", "u8": ".int8", "s8": ".int8-s8"}[int8]
    return directory / f"{graph}{suffix}.onnx"


def is_complete(directory: Path, digest: str) -> bool:
    """Whether `directory` holds this version's fp32 graphs for these weights (a stale one does not)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("version") != GRAPH_VERSION or manifest.get("hash") != digest:
        return False
    return all(graph_file(directory, g).is_file() for g in GRAPHS)


def ensure_exported(model: Transformer, int8: str | None = None, root: Path | None = None) -> Path:
    """The directory of this model's graphs, exporting them first if they are missing or stale
    (and with `int8`, 'u8' or 's8', quantising them with those weights).

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
        dest = graph_file(directory, graph, int8)
        if not dest.is_file():
            part = dest.with_name(f".{dest.name}.{os.getpid()}")
            try:
                quantize_int8(graph_file(directory, graph), part, signed=int8 == "s8")
                os.replace(part, dest)
            finally:
                part.unlink(missing_ok=True)
    return directory


def export_graph(model: Transformer, graph: str, path: Path) -> None:
    """Trace `CachedForward` (the `forward` graph) into an ONNX file at `path`.

    Batch and new-token counts are dynamic; the cache has the context's S slots.
    Uses torch's TorchScript exporter: it needs no package beyond `onnx`
    (the newer exporter needs onnxscript) and traced this model exactly.
    """
    if graph != "forward":
        raise ValueError(f"no graph named {graph!r}")
    cfg = model.cfg
    B, T, S = 1, 2, cfg.context_length
    args = [
        torch.zeros(B, T, dtype=torch.long),
        torch.full((B,), T - 1, dtype=torch.int32),
        torch.tensor(T, dtype=torch.int32),
        *(torch.zeros(B, cfg.n_head, S, cfg.head_dim) for _ in range(2 * cfg.n_layer)),
    ]
    presents = past_names(model, "present")
    dynamic = {"idx": {0: "batch", 1: "new"}, "seqlens_k": {0: "batch"}, "logits": {0: "batch"}}
    dynamic |= {name: {0: "batch"} for name in past_names(model, "past") + presents}
    with warnings.catch_warnings(), torch.no_grad(), _fast_gelu():
        warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
        torch.onnx.export(
            CachedForward(model),
            tuple(args),
            str(path),
            dynamo=False,
            input_names=input_names(model),
            output_names=["logits", *presents],
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


def quantize_int8(src: Path, dest: Path, signed: bool = False) -> None:
    """Int8 dynamic quantisation of the weight matrices, per output channel (activations per call):
    unsigned weights, or `signed` ones for CPUs whose int8 dot product sums in 32 bits (VNNI, AMX;
    `device.int8_weight_type` chooses, and says why and what it measured).

    Against fp32 (next-token top-1 agreement / 12-token greedy continuations
    identical): on the GPU-trained shipped tiny over 150 held-out contexts
    (bench/int8_agreement.py --data, graphs version 6) 94.7% / 70.7%, max
    logit difference 1.13 (version 5's graphs: 94.0% / 70.7%; leaving the
    MLP's down-projections or the q/k/v projections in fp32: 95.3% / 76.0%
    and 96.0% / 72.7%, not worth their speed). On the earlier CPU-trained
    model over 132 contexts of 23 scripts: unsigned per-channel 99.2% /
    91.7%; unsigned per-tensor 96.2% / 86.4%; signed per-tensor 96.2% /
    85.6%; signed with reduce_range 98.5% / 72.0%. Unsigned weights also
    avoid the AVX2 trap: u8 x s8 products summed in 16 bits (vpmaddubsw) can
    saturate with signed weights, which elsewhere gave 40% agreement.
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
            weight_type=QuantType.QInt8 if signed else QuantType.QUInt8,
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
