"""The model's forward on a KV cache through ONNX Runtime (CPU), the cache written where it lies.

`OnnxForward` is a drop-in for `model(idx, cache, last_only=True)`: the same
arguments, logits of the same shape, and the same `KVCache` of torch tensors.
Each layer's cache buffers are bound (I/O binding: their pointers, no copy)
as both the past and the present of the graph's GroupQueryAttention, which
writes the new positions' keys and values into them and reads only the
filled slots. So the Generator's prefix cache, its row copies for candidates
and its truncation work unchanged, and all generation logic stays in Python.
Calls the graph is not built for (no cache, all positions' logits, another
dtype or capacity, autocast, several rows of several tokens after filled
slots) run the torch model instead.

Measured with bench/generate.py (2-core AMD EPYC, AVX2, no AVX-512, no AMX,
2 threads, A/B of the graph versions in alternating runs): version 5 (a
prefill and a step graph of plain ops, the step attending over all 512
slots) decoded at 1.92-2.02x the plain eager decoder (int8 2.98-3.04x) with a
512-token prefill of 122-131 ms; version 6 (this one) 2.53-2.77x (int8
5.0-5.6x), prefill 104-113 ms.
Exporting is `onnx_export`'s job; choosing this path is `device`'s.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from bashcoder.engine.device import import_onnxruntime
from bashcoder.engine.model import KVCache, Transformer
from bashcoder.engine.onnx_export import GRAPHS, ensure_exported, graph_file

GRAPH = GRAPHS[0]

HEAD_DIM_MULTIPLE = 16
"""GroupQueryAttention's CPU kernel takes head sizes that are multiples of 16 (the presets' are 16
and 64); other models run on torch."""
CHECK_ATOL = 1e-3
"""Largest |logit difference| from torch accepted by the load-time check of the fp32 graphs
(measured: at most 1.3e-5 on the shipped tiny model over 132 real contexts, ~1e-6 on random weights)."""
CHECK_ATOL_INT8 = 4.0
"""The same for the int8 graphs: ~3.5x the largest difference measured on the shipped tiny over 150
held-out contexts (1.13, bench/int8_agreement.py; the check's own input gives 0.76), so only a
broken quantisation fails it (signed weights saturating on AVX2 gave ~40% top-1 agreement)."""


class OnnxForward:
    """The runtime's forward; call it like the model: (idx (B, T), cache, last_only) -> (B, 1, V)."""

    def __init__(self, model: Transformer, directory: Path, threads: int, int8: str | None = None) -> None:
        ort = import_onnxruntime()
        # Its warnings (optimizer notes) are C++ log lines on the user's terminal; failures
        # still raise, and the caller logs them in one line.
        ort.set_default_logger_severity(3)
        self.model = model
        self.cfg = model.cfg
        self.int8 = int8
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle pool threads must not spin: spinning threads take the cores from whatever runs
        # next (torch, the server, the terminal). Measured with bench/generate.py (quiet 2-core
        # AMD EPYC, 2 threads, tiny): 512-token prefill 208 -> 142 ms, decode 2.12x -> 2.00x torch.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(graph_file(directory, GRAPH, int8)), opts, providers=["CPUExecutionProvider"]
        )
        self._bound: tuple[tuple[int, ...], object, dict[str, torch.Tensor]] | None = None

    def supports(self, idx: torch.Tensor, cache: KVCache | None, last_only: bool) -> bool:
        """Whether the graph serves this call (else the torch model does)."""
        return (
            cache is not None
            and last_only
            and idx.device.type == "cpu"
            and cache.k.device.type == "cpu"
            and cache.k.dtype == torch.float32
            and cache.batch == idx.shape[0]
            and cache.capacity == self.cfg.context_length
            and cache.length + idx.shape[1] <= cache.capacity
            # GroupQueryAttention takes several new positions after filled slots in one row only
            # (the engine's prefills are row 0's; candidates step one token at a time).
            and (idx.shape[0] == 1 or idx.shape[1] == 1 or cache.length == 0)
            and not torch.is_autocast_enabled("cpu")
        )

    def __call__(
        self, idx: torch.Tensor, cache: KVCache | None = None, last_only: bool = False
    ) -> torch.Tensor:
        """Logits (B, 1, V) after token ids `idx` (B, T) at `cache.length`; the cache gains T positions."""
        if not self.supports(idx, cache, last_only):
            return self.model(idx, cache, last_only)
        assert cache is not None
        B, T = idx.shape
        end = cache.length + T
        io, buf = self._binding(cache, B, T)
        buf["idx"].copy_(idx)
        buf["seqlens_k"].fill_(end - 1)
        buf["total_sequence_length"].fill_(end)
        logits = torch.empty(B, self.cfg.vocab_size)
        _bind(io, "logits", logits, output=True)
        self.session.run_with_iobinding(io)  # writes the new keys and values into the cache
        cache.length = end
        return logits[:, None]

    def _binding(self, cache: KVCache, B: int, T: int) -> tuple[object, dict[str, torch.Tensor]]:
        """The I/O binding for this batch, token count and cache buffer, reused while they hold.

        A decode step rebinds nothing: it rewrites the small inputs in place.
        """
        # The strides too: a batch-1 cache and a row view of a bigger one may start at the same
        # address with layers at other offsets, and the graph writes through these pointers.
        key = (B, T, cache.k.data_ptr(), cache.v.data_ptr(), cache.k.stride(), cache.v.stride())
        if self._bound is not None and self._bound[0] == key:
            return self._bound[1], self._bound[2]
        with torch.inference_mode(False):  # plain tensors: writable in and out of inference mode
            buf = {
                "idx": torch.empty(B, T, dtype=torch.long),
                "seqlens_k": torch.empty(B, dtype=torch.int32),
                "total_sequence_length": torch.empty((), dtype=torch.int32),
            }
        io = self.session.io_binding()
        for name, tensor in buf.items():
            _bind(io, name, tensor)
        for layer in range(self.cfg.n_layer):  # past and present: one buffer, the cache's own
            for kv, tensor in (("k", cache.k[layer]), ("v", cache.v[layer])):
                _bind(io, f"past_{kv}_{layer}", tensor)
                _bind(io, f"present_{kv}_{layer}", tensor, output=True)
        # Replacing the old binding drops its raw pointers into buffers that may be gone.
        self._bound = (key, io, buf)
        return io, buf


def _bind(io, name: str, tensor: torch.Tensor, output: bool = False) -> None:  # noqa: ANN001
    """Bind a contiguous CPU tensor's memory to a graph input or output by pointer (no copy)."""
    if not tensor.is_contiguous():
        raise ValueError(f"{name} must be contiguous to be bound in place")
    dtype = {torch.long: np.int64, torch.int32: np.int32, torch.float32: np.float32}[tensor.dtype]
    bind = io.bind_output if output else io.bind_input
    bind(name, "cpu", 0, dtype, list(tensor.shape), tensor.data_ptr())


def self_check(forward: OnnxForward) -> float:
    """Max |logit difference| between `forward` and the torch model on a prefill then a step.

    Run once at load: an exporter or runtime that computes something else is
    caught before it serves a suggestion.
    """
    cfg = forward.cfg
    gen = torch.Generator().manual_seed(0)
    idx = torch.randint(0, cfg.vocab_size, (1, 7), generator=gen)
    worst = 0.0
    with torch.inference_mode():
        caches = [KVCache.allocate(cfg, 1, torch.device("cpu"), torch.float32) for _ in range(2)]
        for part in (idx[:, :5], idx[:, 5:]):
            ours = forward(part, caches[0], last_only=True)
            ref = forward.model(part, caches[1], last_only=True)
            worst = max(worst, (ours - ref).abs().max().item())
    return worst


def load(model: Transformer, threads: int, int8: str | None = None) -> OnnxForward:
    """Export (once per weights) and load the graphs for `model`, checked against torch; with
    `int8` ('u8' or 's8', see `device.int8_weight_type`) the int8 graphs with those weights.

    A cached export that fails to load (a truncated file) is exported again
    once. Raises on any other failure (no onnxruntime, an exporter error, a
    failed check); `device.model_forward` turns that into the torch fallback.
    """
    import_onnxruntime()  # fail before exporting when the runtime is missing
    if model.cfg.head_dim % HEAD_DIM_MULTIPLE:  # ONNX Runtime would refuse it after the export
        raise ValueError(
            f"its GroupQueryAttention needs a head size that is a multiple of {HEAD_DIM_MULTIPLE}; "
            f"this model's is {model.cfg.head_dim}"
        )

    directory = ensure_exported(model, int8=int8)
    try:
        forward = OnnxForward(model, directory, threads, int8=int8)
    except Exception:
        shutil.rmtree(directory, ignore_errors=True)
        forward = OnnxForward(model, ensure_exported(model, int8=int8), threads, int8=int8)
    worst = self_check(forward)
    if not worst <= (CHECK_ATOL_INT8 if int8 else CHECK_ATOL):
        raise RuntimeError(f"exported graph disagrees with torch (max logit difference {worst:.2g})")
    return forward
