"""The ONNX Runtime path gives what the torch path gives: same tokens, logits within tolerance.

Real parts only: the micro model trained in conftest, exported by the real
exporter into a per-session cache directory, run by the real ONNX Runtime.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest
import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.device import model_forward, plan_for
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.model import KVCache, Transformer, build_model
from bashcoder.engine.onnx_export import GRAPH_VERSION, MANIFEST, ensure_exported, graph_file

pytest.importorskip("onnxruntime", reason="the ONNX Runtime path needs onnxruntime installed")

from bashcoder.engine.runtime import CHECK_ATOL, CHECK_ATOL_INT8, OnnxForward  # noqa: E402

pytestmark = pytest.mark.slow  # the first export of the micro model takes a few seconds

PROMPTS = [
    "#!/bin/bash\nfor f in *.txt; do\n",
    'if [ -z "$1" ]; then\n  echo "usage: $0',
    "backup() {\n  tar -czf",
]


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def _cache_dir(onnx_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exports go to a test directory, shared by the session, never to the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(onnx_cache))


def generator(model: Transformer, tokenizer, runtime: str) -> Generator:  # noqa: ANN001
    cpu = dataclasses.replace(plan_for(torch.device("cpu")), runtime=runtime)
    return Generator(LoadedModel(model, tokenizer, model.cfg, None, {}), cpu)


@pytest.fixture(scope="module")
def pair(micro_model: Transformer, bpe_tokenizer, onnx_cache: Path) -> tuple[Generator, Generator]:  # noqa: ANN001
    """Generators of the same micro model on torch and on ONNX Runtime."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(onnx_cache))
        torch_gen = generator(micro_model, bpe_tokenizer, "torch")
        onnx_gen = generator(micro_model, bpe_tokenizer, "onnx")
    assert isinstance(onnx_gen._forward, OnnxForward), "the micro model should export and load"
    return torch_gen, onnx_gen


def test_greedy_decoding_gives_the_same_tokens(pair) -> None:  # noqa: ANN001
    torch_gen, onnx_gen = pair
    greedy = SamplingConfig(temperature=0, max_tokens=24)
    for text in PROMPTS:
        ids = torch_gen.plain_prompt(text, 24)
        torch_gen.reset_cache()
        onnx_gen.reset_cache()
        expected = torch_gen.generate(ids, greedy)[0]
        got = onnx_gen.generate(ids, greedy)[0]
        assert got.token_ids == expected.token_ids and got.text == expected.text
        assert got.logprob == pytest.approx(expected.logprob, abs=1e-3)


def test_fill_in_the_middle_with_healing_gives_the_same_completion(pair) -> None:  # noqa: ANN001
    torch_gen, onnx_gen = pair
    greedy = SamplingConfig(temperature=0, max_tokens=16)
    for gen in pair:
        gen.reset_cache()
    prefix, suffix = "#!/bin/bash\nfor f in *.t", "\ndone\n"
    assert [c.text for c in onnx_gen.complete(prefix, suffix, greedy)] == [
        c.text for c in torch_gen.complete(prefix, suffix, greedy)
    ]


def test_sampled_candidates_share_the_prefix_and_match_torch(pair) -> None:  # noqa: ANN001
    torch_gen, onnx_gen = pair
    sampling = SamplingConfig(temperature=0.8, top_k=20, max_tokens=16, num_candidates=3, seed=7)
    ids = torch_gen.plain_prompt(PROMPTS[0], 16)
    for gen in pair:
        gen.reset_cache()
    expected = [c.token_ids for c in torch_gen.generate(ids, sampling)]
    assert [c.token_ids for c in onnx_gen.generate(ids, sampling)] == expected


def test_keystrokes_reuse_the_cache_and_match_a_fresh_prefill(pair) -> None:  # noqa: ANN001
    torch_gen, onnx_gen = pair
    greedy = SamplingConfig(temperature=0, max_tokens=12)
    onnx_gen.reset_cache()
    text = "#!/bin/bash\nset -eu\nfor f in *.log; do\n  gzip "
    for n in range(len(text) - 6, len(text) + 1):  # typing the last characters one by one
        ids = onnx_gen.plain_prompt(text[:n], 12)
        got = onnx_gen.generate(ids, greedy)[0]
        torch_gen.reset_cache()
        assert got.token_ids == torch_gen.generate(ids, greedy)[0].token_ids
    assert onnx_gen.last_reused > 0  # the last keystroke fed only its new tokens


def test_logits_agree_within_tolerance_on_every_kind_of_call(micro_model: Transformer, pair) -> None:  # noqa: ANN001
    forward = pair[1]._forward
    cfg = micro_model.cfg
    idx = torch.randint(0, cfg.vocab_size, (1, 60), generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        ours = KVCache.allocate(cfg, 3, torch.device("cpu"), torch.float32)
        ref = KVCache.allocate(cfg, 3, torch.device("cpu"), torch.float32)
        # A prefill into row 0 of a 3-row cache, rows synced, then steps of the 3 rows, then a
        # keystroke's few tokens and a longer chunk at an offset on row 0.
        a = forward(idx[:, :40], ours.rows(1), last_only=True)
        b = micro_model(idx[:, :40], ref.rows(1), last_only=True)
        assert (a - b).abs().max() <= CHECK_ATOL
        for cache in (ours, ref):
            cache.length = 40
            cache.copy_row0(range(1, 3), 0, 40)
        for t in range(40, 44):
            step = idx[:, t : t + 1].expand(3, 1)
            a, b = forward(step, ours, last_only=True), micro_model(step, ref, last_only=True)
            assert a.shape == b.shape == (3, 1, cfg.vocab_size)
            assert (a - b).abs().max() <= CHECK_ATOL
        for cache in (ours, ref):
            cache.truncate(44)
        for part in (idx[:, 44:47], idx[:, 47:60]):
            a = forward(part, ours.rows(1), last_only=True)
            b = micro_model(part, ref.rows(1), last_only=True)
            assert (a - b).abs().max() <= CHECK_ATOL
    assert torch.allclose(ours.k[:, :1, :, :60], ref.k[:, :1, :, :60], atol=1e-5)


def test_the_export_is_built_once_per_weights(micro_model: Transformer, onnx_cache: Path) -> None:
    first = ensure_exported(micro_model)
    stamp = graph_file(first, "forward").stat().st_mtime_ns
    assert ensure_exported(micro_model) == first  # a later start finds it
    assert graph_file(first, "forward").stat().st_mtime_ns == stamp
    assert first.parent == onnx_cache / "bashcoder" / "onnx"
    other = build_model(micro_model.cfg, seed=5).eval()
    assert ensure_exported(other) != first  # other weights, other graphs


def test_the_graph_fuses_the_gelu_and_the_attention(micro_model: Transformer) -> None:
    # Version 4 meant to export FastGelu and did not (the exporter's argument was never parsed):
    # each block then ran eight elementwise ops over its (T, ffn_hidden) activations. Version 6
    # runs each layer's attention as one GroupQueryAttention node on the cache: a decode step was
    # ~30 plain ops a layer (rotary, scores over every slot, mask, softmax, two products).
    import onnx

    directory = ensure_exported(micro_model)
    ops = [node.op_type for node in onnx.load(str(graph_file(directory, "forward"))).graph.node]
    n_layer = micro_model.cfg.n_layer
    assert ops.count("FastGelu") == n_layer and "Tanh" not in ops
    assert ops.count("GroupQueryAttention") == n_layer
    assert "Softmax" not in ops and "Concat" not in ops


def test_several_rows_of_several_new_tokens_after_the_cache_run_on_torch(
    micro_model: Transformer, pair
) -> None:  # noqa: ANN001
    # GroupQueryAttention refuses them (batch 1 only); the engine never asks, but a caller that
    # does still gets torch's answer, not an error.
    forward = pair[1]._forward
    cfg = micro_model.cfg
    idx = torch.randint(0, cfg.vocab_size, (2, 9), generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        ours, ref = (KVCache.allocate(cfg, 2, torch.device("cpu"), torch.float32) for _ in range(2))
        assert forward.supports(idx[:, :6], ours, True)  # a prefill of both rows: the graph's
        for part in (idx[:, :6], idx[:, 6:]):
            a, b = forward(part, ours, last_only=True), micro_model(part, ref, last_only=True)
            assert (a - b).abs().max() <= CHECK_ATOL
        assert not forward.supports(idx[:, 6:], ours, True)
    assert torch.allclose(ours.k[:, :, :, :9], ref.k[:, :, :, :9], atol=1e-5)


def test_a_stale_export_is_rebuilt(micro_model: Transformer) -> None:
    directory = ensure_exported(micro_model)
    manifest = json.loads((directory / MANIFEST).read_text())
    (directory / MANIFEST).write_text(json.dumps({**manifest, "version": GRAPH_VERSION - 1}))
    assert ensure_exported(micro_model) == directory
    assert json.loads((directory / MANIFEST).read_text())["version"] == GRAPH_VERSION


def test_only_the_graphs_used_last_are_kept(tmp_path: Path) -> None:
    # ~130 MB a model: the cache grew by that for every set of weights ever served (1.7 GB seen).
    import os
    import time

    from bashcoder.engine.onnx_export import prune

    for age, name in enumerate(["a", "b", "c", "d", "e", "f"]):
        (tmp_path / name).mkdir()
        (tmp_path / name / MANIFEST).write_text("{}")
        os.utime(tmp_path / name / MANIFEST, (time.time() - 100 * age, time.time() - 100 * age))
    for name, age in (
        (".dead.x", 7200),
        (".busy.y", 60),
    ):  # half-written exports: of a dead process, a live one
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (time.time() - age, time.time() - age))
    prune(tmp_path, keep=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".busy.y", "a", "b", "c", "d"]


def test_a_cache_that_cannot_be_written_reuses_one_private_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new folder per session left ~130 MB in /tmp each time; one per user is reused, if it is private.
    import tempfile

    from bashcoder.engine.onnx_export import writable_cache_root

    blocker = tmp_path / "file"
    blocker.write_text("")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    first = writable_cache_root()
    assert writable_cache_root() == first and first.parent == tmp_path / "tmp"
    assert first.stat().st_mode & 0o777 == 0o700
    first.chmod(0o777)  # opened to others (or planted by someone): not trusted
    assert writable_cache_root() != first


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bashcoder.engine.onnx_export import writable_cache_root

    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert writable_cache_root() == tmp_path / ".cache" / "bashcoder" / "onnx"


def test_a_truncated_cached_graph_is_exported_again(micro_model: Transformer) -> None:
    directory = ensure_exported(micro_model)
    path = graph_file(directory, "forward")
    path.write_bytes(path.read_bytes()[:1000])
    forward = model_forward(micro_model, dataclasses.replace(plan_for(torch.device("cpu")), runtime="onnx"))
    assert isinstance(forward, OnnxForward)
    assert path.stat().st_size > 1000


def test_an_export_that_cannot_be_written_falls_back_to_torch(
    micro_model: Transformer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Neither the cache nor the temporary directory can be written: torch serves, said in a line.
    import tempfile

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="onnx")
    assert model_forward(micro_model, plan) is micro_model
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert sum("running torch" in w for w in warnings) == 1, warnings


def test_a_head_size_the_attention_kernel_refuses_runs_on_torch_without_an_export(
    micro_model: Transformer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GroupQueryAttention takes head sizes in multiples of 16: a model with 24 was exported, then
    # refused by ONNX Runtime at every start (its own error line on stderr).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cfg = dataclasses.replace(micro_model.cfg, n_embd=48, n_head=2, ffn_hidden=96)
    odd = build_model(cfg).eval()
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="onnx")
    assert model_forward(odd, plan) is odd
    assert [r.getMessage() for r in caplog.records if "multiple of 16" in r.getMessage()]
    assert not list(tmp_path.rglob("*.onnx"))


def test_a_new_cache_at_an_old_address_with_another_layout_is_bound_again(
    micro_model: Transformer, pair
) -> None:  # noqa: ANN001
    # The binding was keyed by the cache's address alone: a batch-1 cache sharing its start with a
    # row view of a batch-3 one reused the view's layer offsets, and the graph wrote through them.
    forward = pair[1]._forward
    cfg = micro_model.cfg
    L, nh, S, hs = cfg.n_layer, cfg.n_head, cfg.context_length, cfg.head_dim
    idx = torch.randint(0, cfg.vocab_size, (1, 6), generator=torch.Generator().manual_seed(5))
    with torch.inference_mode():
        k, v = torch.zeros(L * 3 * nh * S * hs), torch.zeros(L * 3 * nh * S * hs)
        big = KVCache(k.view(L, 3, nh, S, hs), v.view(L, 3, nh, S, hs))
        forward(idx, big.rows(1), last_only=True)
        n = L * nh * S * hs
        small = KVCache(k[:n].view(L, 1, nh, S, hs), v[:n].view(L, 1, nh, S, hs))
        ref = KVCache.allocate(cfg, 1, torch.device("cpu"), torch.float32)
        for part in (idx[:, :6], idx[:, :1]):
            a, b = forward(part, small, last_only=True), micro_model(part, ref, last_only=True)
            assert (a - b).abs().max() <= CHECK_ATOL
    assert torch.allclose(small.k[:, :, :, :7], ref.k[:, :, :, :7], atol=1e-5)


def test_int8_graphs_load_and_stay_within_their_measured_bound(micro_model: Transformer) -> None:
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="onnx-int8")
    forward = model_forward(micro_model, plan)
    assert isinstance(forward, OnnxForward) and forward.int8 == plan.int8_weights
    assert graph_file(ensure_exported(micro_model), "forward", plan.int8_weights).is_file()
    idx = torch.randint(0, micro_model.cfg.vocab_size, (1, 30), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        cfg = micro_model.cfg
        caches = [KVCache.allocate(cfg, 1, torch.device("cpu"), torch.float32) for _ in range(2)]
        a, b = forward(idx, caches[0], last_only=True), micro_model(idx, caches[1], last_only=True)
    assert (a - b).abs().max() <= CHECK_ATOL_INT8


def test_unsigned_int8_serves_any_cpu_and_each_weight_type_keeps_its_own_file(
    micro_model: Transformer,
) -> None:
    # 'u8' is what a CPU without VNNI gets (here forced); the plan's own choice is the test above.
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="onnx-int8", int8_weights="u8")
    forward = model_forward(micro_model, plan)
    assert isinstance(forward, OnnxForward) and forward.int8 == "u8"
    directory = ensure_exported(micro_model)
    assert graph_file(directory, "forward", "u8").is_file()
    assert graph_file(directory, "forward", "s8") != graph_file(directory, "forward", "u8")
    with pytest.raises(ValueError, match="expected one of u8, s8"):
        graph_file(directory, "forward", "int4")
    idx = torch.randint(0, micro_model.cfg.vocab_size, (1, 30), generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        caches = [KVCache.allocate(micro_model.cfg, 1, torch.device("cpu"), torch.float32) for _ in range(2)]
        a, b = forward(idx, caches[0], last_only=True), micro_model(idx, caches[1], last_only=True)
    assert (a - b).abs().max() <= CHECK_ATOL_INT8


def test_each_int8_weight_type_holds_weights_of_its_sign(micro_model: Transformer, tmp_path: Path) -> None:
    import onnx

    from bashcoder.engine.onnx_export import quantize_int8

    src = graph_file(ensure_exported(micro_model), "forward")
    kinds = {}
    for signed in (False, True):
        dest = tmp_path / f"forward.{signed}.onnx"
        quantize_int8(src, dest, signed=signed)
        graph = onnx.load(str(dest)).graph
        # the quantised weight matrices: 2-D int8 initialisers (zero points and scales are 1-D)
        kinds[signed] = {t.data_type for t in graph.initializer if t.name.endswith("_quantized")}
    assert kinds[False] == {onnx.TensorProto.UINT8}
    assert kinds[True] == {onnx.TensorProto.INT8}


def test_quantizing_prints_no_advice_for_image_models(
    micro_model: Transformer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # onnxruntime's quantizer logs "Please consider to run pre-processing..." on the root logger,
    # which reached the user's terminal once per graph.
    from bashcoder.engine.onnx_export import quantize_int8

    directory = ensure_exported(micro_model)
    with caplog.at_level(logging.WARNING):
        quantize_int8(graph_file(directory, "forward"), tmp_path / "forward.int8.onnx")
    assert (tmp_path / "forward.int8.onnx").is_file()
    assert not [r for r in caplog.records if "pre-processing" in r.getMessage()]
