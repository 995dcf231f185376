from __future__ import annotations

import pytest
import torch

from bashcoder.engine import device
from bashcoder.engine.errors import BashcoderError


def test_cpu_is_always_available() -> None:
    assert device.resolve_device("cpu") == torch.device("cpu")


def test_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(device.DEVICE_ENV, "cpu")
    assert device.resolve_device(None) == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA to check the error")
def test_absent_device_is_a_one_line_error() -> None:
    with pytest.raises(BashcoderError, match="no CUDA GPU") as err:
        device.resolve_device("cuda")
    assert "\n" not in str(err.value)


def test_unknown_device_is_a_clear_error() -> None:
    with pytest.raises(BashcoderError, match="unknown device 'tpu'"):
        device.resolve_device("tpu")


def test_cpu_dtype_policy_follows_amx() -> None:
    p = device.plan_for(torch.device("cpu"))
    assert p.weight_dtype == torch.float32
    assert p.decode_dtype is None  # batch-1 decode measured faster in fp32 even with AMX
    expected = torch.bfloat16 if device.has_amx() else None
    assert p.prefill_dtype == expected and p.train_autocast == expected


def test_cpu_model_is_named() -> None:
    assert device.cpu_model()


def test_cpu_model_names_the_vector_extensions_the_figures_depend_on() -> None:
    # One "AMD EPYC" VM has AVX2 only, another AVX-512 with VNNI: its figures differ 1.5-2x.
    isa = device.vector_isa(device.cpu_flags())
    assert device.cpu_model().endswith(isa)
    assert device.vector_isa(frozenset({"avx", "avx2", "fma"})) == "AVX2"
    zen4 = frozenset({"avx2", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16"})
    assert device.vector_isa(zen4) == "AVX-512 VNNI BF16"
    assert device.vector_isa(frozenset({"avx2", "avx_vnni"})) == "AVX2 AVX-VNNI"
    assert device.vector_isa(frozenset({"neon", "asimd"})) == ""


def test_signed_int8_weights_only_where_the_dot_product_sums_in_32_bits() -> None:
    # Plain AVX2/AVX-512 sum u8 x s8 pairs in 16 bits (VPMADDUBSW) and saturate with signed weights.
    assert device.int8_weight_type(frozenset({"avx2", "fma"})) == "u8"
    assert device.int8_weight_type(frozenset({"avx2", "avx512f", "avx512bw"})) == "u8"
    assert device.int8_weight_type(frozenset({"avx2", "avx512f", "avx512_vnni"})) == "s8"
    assert device.int8_weight_type(frozenset({"avx2", "avx_vnni"})) == "s8"
    assert device.int8_weight_type(frozenset({"amx_tile", "amx_int8"})) == "s8"
    assert device.int8_weight_type(frozenset()) == "u8"  # another architecture: the safe choice
    assert device.plan_for(torch.device("cpu")).int8_weights == device.int8_weight_type()


def test_the_int8_weight_type_can_be_forced_and_a_bad_value_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vnni = frozenset({"avx2", "avx512f", "avx512_vnni"})
    monkeypatch.setenv(device.INT8_WEIGHTS_ENV, "U8")
    assert device.int8_weight_type(vnni) == "u8"
    monkeypatch.setenv(device.INT8_WEIGHTS_ENV, "s8")
    assert device.int8_weight_type(frozenset({"avx2"})) == "s8"
    monkeypatch.setenv(device.INT8_WEIGHTS_ENV, "int4")
    with pytest.raises(BashcoderError, match="BASHCODER_INT8_WEIGHTS='int4' is unknown; use u8") as err:
        device.int8_weight_type(vnni)
    assert "\n" not in str(err.value)
