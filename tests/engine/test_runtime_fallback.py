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


def _served_on_onnx_in_a_fresh_process(model_dir: Path, home: Path, extra: dict[str, str]) -> str:
    import os
    import subprocess

    # CI runners' own variables make ONNX Runtime keep quiet by itself: not here.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "GITHUB_ACTIONS", "TF_BUILD", "ORT_DISABLE_TELEMETRY")
    }
    env |= {"HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"), **extra}
    code = (
        "from bashcoder.engine.loader import load_generator\n"
        f"gen = load_generator({str(model_dir)!r}, 'cpu')\n"
        "print(type(gen._forward).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_onnx_runtime_sends_and_keeps_no_telemetry(micro_model_dir: Path, tmp_path: Path) -> None:
    # onnxruntime >= 1.29 uploads usage events by default on Linux and keeps a device id under HOME.
    assert _served_on_onnx_in_a_fresh_process(micro_model_dir, tmp_path, {}) == "OnnxForward"
    assert not list(tmp_path.rglob("deviceid")) and not (tmp_path / ".cache" / "Microsoft").exists()


def test_an_unwritable_cache_still_serves_on_onnx_runtime(micro_model_dir: Path, tmp_path: Path) -> None:
    # A missing or read-only HOME: the graphs go to the temporary directory instead of torch serving.
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    (tmp_path / "tmp").mkdir()
    got = _served_on_onnx_in_a_fresh_process(
        micro_model_dir, tmp_path, {"XDG_CACHE_HOME": str(blocked), "TMPDIR": str(tmp_path / "tmp")}
    )
    assert got == "OnnxForward"
    assert list((tmp_path / "tmp").glob("bashcoder-onnx-*/*/forward.onnx"))


def test_the_telemetry_switch_is_not_left_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The REPL's commands inherit os.environ: the switch is for the library's load only.
    monkeypatch.delenv(device.ORT_TELEMETRY_ENV, raising=False)
    device.import_onnxruntime()
    import os

    assert device.ORT_TELEMETRY_ENV not in os.environ
