"""Without ONNX Runtime the engine runs on torch: one log line, and generation works as before."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
import torch

from bashcoder.engine import device
from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.model import Transformer
from bashcoder.engine.tokenizer import BpeTokenizer


def test_a_missing_runtime_falls_back_to_torch(
    tmp_path: Path,
    micro_model: Transformer,
    bpe_tokenizer: BpeTokenizer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` now fails
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    plan = dataclasses.replace(device.plan_for(torch.device("cpu")), runtime="onnx")
    gen = Generator(LoadedModel(micro_model, bpe_tokenizer, micro_model.cfg, None, {}), plan)
    assert gen._forward is micro_model
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "running torch" in warnings[0], warnings
    out = gen.generate(gen.plain_prompt("for f in *; do\n", 8), SamplingConfig(temperature=0, max_tokens=8))
    assert out[0].token_ids
    assert not (tmp_path / "bashcoder").exists()  # nothing was exported for a runtime that is not there


def test_runtime_choice_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(device.RUNTIME_ENV, "torch")
    assert device.plan_for(torch.device("cpu")).runtime == "torch"
    monkeypatch.setenv(device.RUNTIME_ENV, "tpu")
    with pytest.raises(BashcoderError, match="unknown runtime 'tpu'"):
        device.resolve_runtime()
    monkeypatch.delenv(device.RUNTIME_ENV)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # not importable: torch
    assert device.resolve_runtime() == "torch"


def test_training_and_accelerators_never_leave_torch(micro_model: Transformer) -> None:
    plan = dataclasses.replace(device.plan_for(torch.device("cpu")), runtime="torch")
    assert device.model_forward(micro_model, plan) is micro_model
    cuda = device.DevicePlan(torch.device("cuda"), torch.bfloat16, None, None, torch.bfloat16, amx=False)
    assert device.model_forward(micro_model, dataclasses.replace(cuda, runtime="onnx")) is micro_model
