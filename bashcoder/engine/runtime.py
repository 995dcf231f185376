"""The model's forward on a KV cache through ONNX Runtime (CPU), the cache read where it lies.

`OnnxForward` is a drop-in for `model(idx, cache, last_only=True)`: the same
arguments, logits of the same shape, and the same `KVCache` of torch tensors.
ONNX Runtime reads the cache buffers in place through I/O binding (their
pointers, no copy); the graph returns the new positions' keys and values,
which are written into the cache here (18 KB a token for tiny). So the
Generator's prefix cache, its row copies for candidates and its truncation
work unchanged, and all generation logic stays in Python. Calls the graphs
were not built for (no cache, all positions' logits, another dtype or
capacity, autocast) run the torch model instead.

Measured with bench/generate.py on a quiet 2-core AMD EPYC (AVX2, no AVX-512,
no AMX), 2 threads, A/B interleaved: tiny batch-1 decode 2.0x eager torch (int8
2.8x), 512-token prefill 142 ms against torch's 162 (int8 145 ms); since the
last block computes the final row only, 124-132 ms against torch's 133-136 on
the same VM (int8 107-114); graphs version 4, quiet cores: 111 ms (int8 104, torch 111) and
decode 2.07x the plain eager decoder; version 5 (the GELU really fused) 4-8 ms less prefill A/B.
Exporting is `onnx_export`'s job; choosing this path is `device`'s.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from bashcoder.engine.device import import_onnxruntime
from bashcoder.engine.model import KVCache, Transformer
from bashcoder.engine.onnx_export import GRAPHS, ensure_exported, graph_file, input_names

CHECK_ATOL = 1e-3
"""Largest |logit difference| from torch accepted by the load-time check of the fp32 graphs
(measured: at most 1.3e-5 on the shipped tiny model over 132 real contexts, ~1e-6 on random weights)."""
CHECK_ATOL_INT8 = 1.0
"""The same for the int8 graphs: ~4x the largest difference measured on real contexts (0.24; the
check's own input gives 0.13), so only a broken quantisation fails it."""


class OnnxForward:
    """The runtime's forward; call it like the model: (idx (B, T), cache, last_only) -> (B, 1, V)."""

    def __init__(self, model: Transformer, directory: Path, threads: int, int8: bool = False) -> None:
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
        self.sessions = {
            g: ort.InferenceSession(
                str(graph_file(directory, g, int8)), opts, providers=["CPUExecutionProvider"]
            )
            for g in GRAPHS
        }
        self._bound: dict[str, tuple[tuple[int, ...], object, dict[str, torch.Tensor]]] = {}

    def supports(self, idx: torch.Tensor, cache: KVCache | None, last_only: bool) -> bool:
        """Whether the graphs serve this call (else the torch model does)."""
        return (
            cache is not None
            and last_only
            and idx.device.type == "cpu"
            and cache.k.device.type == "cpu"
            and cache.k.dtype == torch.float32
            and cache.batch == idx.shape[0]
            and cache.capacity == self.cfg.context_length
            and cache.length + idx.shape[1] <= cache.capacity
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
        start, end = cache.length, cache.length + idx.shape[1]
        graph = "prefill" if start == 0 else "step"
        io, buf = self._binding(graph, cache, B, T)
        buf["idx"].copy_(idx)
        buf["cos"].copy_(self.model.rope_cos[start:end])
        buf["sin"].copy_(self.model.rope_sin[start:end])
        if graph == "step":  # slots [0, start) and the new positions up to each query's own
            bias = buf["bias"]
            bias.fill_(float("-inf"))
            bias[:, :start] = 0
            bias[:, cache.capacity :].masked_fill_(buf["causal"], 0.0)
        logits = torch.empty(B, self.cfg.vocab_size)
        _bind(io, "logits", logits, output=True)
        self.sessions[graph].run_with_iobinding(io)
        cache.k[:, :, :, start:end] = buf["new_k"]
        cache.v[:, :, :, start:end] = buf["new_v"]
        cache.length = end
        return logits[:, None]

    def _binding(self, graph: str, cache: KVCache, B: int, T: int) -> tuple[object, dict[str, torch.Tensor]]:
        """The I/O binding for this graph, batch, token count and cache buffer, reused while they hold.

        A decode step rebinds nothing: it rewrites the small inputs in place.
        """
        key = (B, T, cache.k.data_ptr(), cache.v.data_ptr()) if graph == "step" else (B, T)
        held = self._bound.get(graph)
        if held is not None and held[0] == key:
            return held[1], held[2]
        cfg = self.cfg
        S, half = cache.capacity, cfg.head_dim // 2
        with torch.inference_mode(False):  # plain tensors: writable in and out of inference mode
            buf = self._buffers(B, T, S, half, graph)
        io = self.sessions[graph].io_binding()
        for name in input_names(self.model, graph):
            if name.startswith("past_"):
                kv, layer = name[5], int(name.rsplit("_", 1)[1])
                _bind(io, name, (cache.k if kv == "k" else cache.v)[layer])
            else:
                _bind(io, name, buf[name])
        for name in ("new_k", "new_v"):
            _bind(io, name, buf[name], output=True)
        # Replacing the old binding drops its raw pointers into buffers that may be gone.
        self._bound[graph] = (key, io, buf)
        return io, buf

    def _buffers(self, B: int, T: int, S: int, half: int, graph: str) -> dict[str, torch.Tensor]:
        """The small inputs and the new keys/values of one binding, rewritten in place per call."""
        cfg = self.cfg
        new = (cfg.n_layer, B, cfg.n_head, T, cfg.head_dim)
        buf = {
            "idx": torch.empty(B, T, dtype=torch.long),
            "cos": torch.empty(T, half),
            "sin": torch.empty(T, half),
            "new_k": torch.empty(new),
            "new_v": torch.empty(new),
        }
        if graph == "step":
            buf["bias"] = torch.empty(T, S + T)
            buf["causal"] = torch.ones(T, T, dtype=torch.bool).tril()
        return buf


def _bind(io, name: str, tensor: torch.Tensor, output: bool = False) -> None:  # noqa: ANN001
    """Bind a contiguous CPU tensor's memory to a graph input or output by pointer (no copy)."""
    if not tensor.is_contiguous():
        raise ValueError(f"{name} must be contiguous to be bound in place")
    dtype = np.int64 if tensor.dtype == torch.long else np.float32
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


def load(model: Transformer, threads: int, int8: bool = False) -> OnnxForward:
    """Export (once per weights) and load the graphs for `model`, checked against torch.

    A cached export that fails to load (a truncated file) is exported again
    once. Raises on any other failure (no onnxruntime, an exporter error, a
    failed check); `device.model_forward` turns that into the torch fallback.
    """
    import_onnxruntime()  # fail before exporting when the runtime is missing

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
