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
