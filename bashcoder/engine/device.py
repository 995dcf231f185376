"""Which accelerator exists, which dtype each kind of work uses there, and which runtime runs it.

The only module that asks the hardware. Everything else receives a
`DevicePlan` (and, for inference, `model_forward`'s callable) and never
branches on the device itself.

Measured choices (tiny, 2 cores; see bench/generate.py and bench/train_throughput.py):
- Intel AMX: a bf16 matmul runs ~8x faster than fp32 (2.8 vs 0.35 TFLOP/s), so a
  512-token prefill takes 18 ms in bf16 against 58 ms in fp32 and training runs
  ~6x faster under bf16 autocast. Batch-1 decode is weight-bandwidth and
  overhead bound, and was faster in fp32 (447 vs 374 tokens/s): decode stays fp32.
- CPUs without AMX (AVX2/AVX-512 only): bf16 is emulated and slower; all fp32.
- CUDA: bf16 everywhere.
- Apple MPS: fp16 for inference; training keeps fp32 (fp16 autocast without a
  loss scaler diverges on small models and bf16 needs macOS 14+).
- Runtime: on CPU, inference forwards run on ONNX Runtime when it is installed
  and the model exports: tiny batch-1 decode 1.65x eager torch at 1 thread and
  3.9x at 2 (busy 2-core AMD EPYC, no AMX; same tokens, logits within 1.3e-5).
  Torch runs training, CUDA, MPS, and is the fallback that always works.
  `BASHCODER_RUNTIME` overrides (torch, onnx, onnx-int8). int8 (~2x fp32's
  decode rate) is opt-in only: 94.7% next-token agreement with fp32 on the
  shipped model over held-out contexts, 70.7% of 12-token greedy continuations
  identical (unsigned weights on an AVX2 CPU; bench/int8_agreement.py; see
  `onnx_export.quantize_int8`); its weights are signed only where the CPU's int8 dot product sums
  in 32 bits (`int8_weight_type`; `BASHCODER_INT8_WEIGHTS` overrides). On AMX CPUs the bf16
  prefill stays on torch (the runtime's graphs are fp32), and decode goes to the runtime.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import platform
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import torch

from bashcoder.engine.errors import BashcoderError

DEVICE_ENV = "BASHCODER_DEVICE"
KNOWN_DEVICES = ("cuda", "mps", "cpu")
RUNTIME_ENV = "BASHCODER_RUNTIME"
RUNTIMES = ("auto", "torch", "onnx", "onnx-int8")

log = logging.getLogger(__name__)

Forward = Callable[..., torch.Tensor]
"""An inference forward called like the model: (idx (B, T), cache, last_only) -> logits (B, T or 1, V)."""


@dataclass(frozen=True)
class DevicePlan:
    """Where the model runs and in which dtype each kind of work happens."""

    device: torch.device
    """The torch device the weights live on."""
    weight_dtype: torch.dtype
    """Dtype the weights are stored in for inference."""
    prefill_dtype: torch.dtype | None
    """Autocast dtype for prompt processing (many tokens at once); None = weights' dtype."""
    decode_dtype: torch.dtype | None
    """Autocast dtype for one-token decode steps; None = weights' dtype."""
    train_autocast: torch.dtype | None
    """Autocast dtype for training; None = full precision."""
    amx: bool
    """Whether the CPU has Intel AMX tiles (only meaningful on CPU)."""
    runtime: str = "torch"
    """What runs inference forwards: 'torch', or on CPU 'onnx' / 'onnx-int8' (ONNX Runtime)."""
    int8_weights: str = "u8"
    """The int8 graph's weight type ('onnx-int8' only): 'u8', or 's8' where the CPU sums u8 x s8
    products in 32 bits (`int8_weight_type`)."""

    @property
    def kind(self) -> str:
        return self.device.type

    def describe(self) -> str:
        name = self.device.type
        if name == "cpu":
            name = f"cpu ({cpu_model()}, {'AMX' if self.amx else 'no AMX'})"
        elif name == "cuda":
            name = f"cuda ({torch.cuda.get_device_name(self.device)})"
        return name


def mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()


def has_amx() -> bool:
    """True when the CPU has Intel AMX tiles that oneDNN uses for bf16 matmuls."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe()) if probe is not None else False
    except Exception:  # an old torch or an odd platform: treat as absent
        return False


@lru_cache(maxsize=1)
def _cpuinfo() -> tuple[str, frozenset[str]]:
    """The first CPU's model name and feature flags from /proc/cpuinfo; ("", {}) elsewhere."""
    name, flags = "", frozenset[str]()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not name:
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = frozenset(value.split())
                if name and flags:
                    break
    except OSError:
        pass
    return name, flags


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as Linux names them (avx2, avx512f, avx512_vnni, ...); empty elsewhere."""
    return _cpuinfo()[1]


def vector_isa(flags: frozenset[str]) -> str:
    """The widest x86 vector extensions in `flags`, in words: "AVX-512 VNNI BF16", "AVX2", or ""
    (another architecture, or no /proc/cpuinfo). The model name alone does not say it: one "AMD
    EPYC" of these VMs has AVX2 only, another AVX-512, and the figures differ by 1.5-2x."""
    width = (
        "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "AVX" if "avx" in flags else ""
    )
    extras = [label for flag, label in (("avx512_vnni", "VNNI"), ("avx512_bf16", "BF16")) if flag in flags]
    if "avx_vnni" in flags and "VNNI" not in extras:
        extras.append("AVX-VNNI")
    return " ".join([width, *extras]) if width else ""


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """Human-readable CPU model with its vector extensions ("AMD EPYC, AVX-512 VNNI BF16"), printed
    beside every benchmark figure."""
    name, flags = _cpuinfo()
    name = name or platform.processor() or platform.machine()
    isa = vector_isa(flags)
    return f"{name}, {isa}" if isa else name


INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
"""CPU flags of an instruction that multiplies u8 by s8 and sums into 32 bits (VPDPBUSD, AMX TDPBUSD)."""


INT8_WEIGHTS_ENV = "BASHCODER_INT8_WEIGHTS"


def int8_weight_type(flags: frozenset[str] | None = None) -> str:
    """The int8 graph's weight type for this CPU: $BASHCODER_INT8_WEIGHTS ('u8' or 's8') when set,
    else 's8' where the CPU has an int8 dot product summing in 32 bits (`INT8_DOT_FLAGS`), else
    'u8'. A value other than u8 or s8 is a BashcoderError naming both.

    Without one, ONNX Runtime's AVX2/AVX-512 kernels multiply u8 activations by s8 weights with
    VPMADDUBSW, which saturates its 16-bit sums: signed weights gave ~40% next-token agreement
    with fp32 there, unsigned ones 94-99%. With VNNI the sums are 32-bit and signed weights take
    the faster kernel: on the shipped tiny (2-core AMD EPYC, AVX-512 VNNI) a 511-token prefill
    57 -> 38 ms against u8 (a decode step 1.15 -> 1.01 ms alone; bench/generate.py's decode rates
    show no difference), and agreement with fp32 within the noise: next-token top-1 over 150
    contexts of the repository's scripts 94.7% against 96.0%, 12-token greedy continuations 68.7%
    against 72.7% (bench/int8_agreement.py --weights u8,s8), over 400 contexts 96.0% against
    95.75%. Which kernel runs is
    MLAS's choice at start-up (onnxruntime/core/mlas/lib/platform.cpp: the u8 x s8 GEMM takes its
    AVX-VNNI, AVX512-VNNI or AMX kernel when the CPU has one, the VPMADDUBSW one otherwise).
    """
    forced = os.environ.get(INT8_WEIGHTS_ENV, "").strip().lower()
    if forced:
        if forced not in ("u8", "s8"):
            raise BashcoderError(
                f"{INT8_WEIGHTS_ENV}={forced!r} is unknown; use u8 (unsigned, any CPU) or s8 (signed: "
                "only CPUs with VNNI or AMX), or unset it to let bashcoder choose."
            )
        return forced
    return "s8" if (cpu_flags() if flags is None else flags) & INT8_DOT_FLAGS else "u8"


def auto_device() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if mps_available():
        return "mps"
    return "cpu"


def resolve_device(requested: str | None = None) -> torch.device:
    """`--device`, else $BASHCODER_DEVICE, else cuda > mps > cpu."""
    name = (requested or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    if name == "auto":
        return torch.device(auto_device())
    kind = name.split(":", 1)[0]
    if kind not in KNOWN_DEVICES:
        raise BashcoderError(f"unknown device {name!r}; use one of auto, cuda, mps, cpu.")
    if kind == "cuda" and not torch.cuda.is_available():
        raise BashcoderError(
            "device 'cuda' was asked for but no CUDA GPU is visible; use --device cpu or auto."
        )
    if kind == "mps" and not mps_available():
        raise BashcoderError(
            "device 'mps' was asked for but Apple Metal is not available; use --device cpu or auto."
        )
    return torch.device(name)


def plan_for(device: torch.device) -> DevicePlan:
    """The dtype policy for a device (see the module docstring for the measurements)."""
    if device.type == "cuda":
        bf16 = torch.cuda.is_bf16_supported()
        half = torch.bfloat16 if bf16 else torch.float16
        return DevicePlan(device, half, None, None, half, amx=False)
    if device.type == "mps":
        return DevicePlan(device, torch.float16, None, None, None, amx=False)
    amx = has_amx()
    bf16 = torch.bfloat16 if amx else None
    return DevicePlan(
        device,
        torch.float32,
        bf16,
        None,
        bf16,
        amx=amx,
        runtime=resolve_runtime(),
        int8_weights=int8_weight_type(),
    )


ORT_TELEMETRY_ENV = "ORT_DISABLE_TELEMETRY"


def import_onnxruntime():  # noqa: ANN201 - the module, typed by onnxruntime's own stubs
    """onnxruntime, imported with its usage telemetry off unless the user set ORT_DISABLE_TELEMETRY.

    Since 1.29 its Linux and macOS wheels upload usage events to Microsoft
    by default (the 1DS client, microsoft/onnxruntime#27379) and keep a device
    id under HOME; a local assistant sends nothing anywhere. The variable is
    read when the library loads, so every import of it goes through here.
    Raises ImportError when it is not installed.
    """
    added = ORT_TELEMETRY_ENV not in os.environ
    os.environ.setdefault(ORT_TELEMETRY_ENV, "1")
    try:
        import onnxruntime
    finally:
        if added:  # read at load; the commands the REPL runs must not inherit it
            del os.environ[ORT_TELEMETRY_ENV]
    return onnxruntime


def resolve_runtime(requested: str | None = None) -> str:
    """The CPU inference runtime: `requested`, else $BASHCODER_RUNTIME, else 'onnx' when
    onnxruntime is installed (found without importing it) and 'torch' otherwise."""
    name = (requested or os.environ.get(RUNTIME_ENV) or "auto").strip().lower()
    if name not in RUNTIMES:
        raise BashcoderError(f"unknown runtime {name!r}; use one of {', '.join(RUNTIMES)}.")
    if name == "auto":
        return "onnx" if importlib.util.find_spec("onnxruntime") is not None else "torch"
    return name


def model_forward(model: torch.nn.Module, plan: DevicePlan) -> Forward:
    """What runs `model`'s inference forwards under `plan`: the model itself, or on CPU its
    ONNX Runtime graphs (exported once per weights, checked against torch at load).

    A runtime that is missing or fails to export, load or check is logged in
    one line and the model runs in torch, which always works.
    """
    if plan.runtime == "torch" or plan.device.type != "cpu":
        return model
    try:
        from bashcoder.engine import runtime

        int8 = plan.int8_weights if plan.runtime == "onnx-int8" else None
        forward = runtime.load(model, threads=torch.get_num_threads(), int8=int8)
    except Exception as exc:  # any failure of an optional accelerator path: torch serves
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        log.warning("ONNX Runtime not used, running torch instead: %s: %s", type(exc).__name__, reason)
        return model
    log.info("inference forwards on ONNX Runtime (%s%s)", plan.runtime, f", {int8} weights" if int8 else "")
    return forward


def plan(requested: str | None = None) -> DevicePlan:
    return plan_for(resolve_device(requested))


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    """Autocast to `dtype` on `device`, or nothing when dtype is None."""
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def synchronize(device: torch.device) -> None:
    """Wait for queued kernels (for honest timings)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def fused_adamw_supported(device: torch.device) -> bool:
    """Fused AdamW exists for CUDA, and for CPU and MPS in recent torch."""
    return device.type in ("cuda", "cpu", "mps")
