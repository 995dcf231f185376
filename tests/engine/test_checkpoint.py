from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from bashcoder.engine.checkpoint import INDEX_FILE, load_model_dir, save_model_dir
from bashcoder.engine.config import preset
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.model import build_model
from bashcoder.engine.tokenizer import CharTokenizer


def same_tensors(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_save_load_gives_identical_tensors(tmp_path: Path, micro_model, bpe_tokenizer) -> None:  # noqa: ANN001
    save_model_dir(tmp_path / "m", micro_model, bpe_tokenizer, card="# card\n")
    loaded = load_model_dir(tmp_path / "m")
    assert same_tensors(loaded.model, micro_model)
    assert loaded.tokenizer.vocab_size == bpe_tokenizer.vocab_size
    assert (tmp_path / "m" / "README.md").read_text() == "# card\n"
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
    ]


def test_sharded_save_respects_the_size_limit(tmp_path: Path, micro_model, bpe_tokenizer) -> None:  # noqa: ANN001
    limit = 400_000
    save_model_dir(tmp_path / "m", micro_model, bpe_tokenizer, shard_bytes=limit)
    shards = sorted((tmp_path / "m").glob("model-*-of-*.safetensors"))
    assert len(shards) > 1
    assert all(p.stat().st_size <= limit + 4096 for p in shards)  # + safetensors header
    assert (tmp_path / "m" / INDEX_FILE).is_file()
    assert same_tensors(load_model_dir(tmp_path / "m").model, micro_model)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_weights(tmp_path: Path, micro_model, bpe_tokenizer, dtype) -> None:  # noqa: ANN001
    save_model_dir(tmp_path / "m", micro_model, bpe_tokenizer, dtype=dtype)
    loaded = load_model_dir(tmp_path / "m")
    for k, v in micro_model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k], v.to(dtype).float())


def test_resave_replaces_atomically(tmp_path: Path, micro_model, bpe_tokenizer) -> None:  # noqa: ANN001
    save_model_dir(tmp_path / "m", micro_model, bpe_tokenizer, shard_bytes=400_000)
    save_model_dir(tmp_path / "m", micro_model, bpe_tokenizer)
    assert not list((tmp_path / "m").glob("model-*"))
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_char_tokenizer_model_round_trips(tmp_path: Path) -> None:
    tok = CharTokenizer()
    model = build_model(preset("micro", vocab_size=tok.vocab_size))
    save_model_dir(tmp_path / "c", model, tok)
    assert load_model_dir(tmp_path / "c").tokenizer.kind == "char"


@pytest.fixture
def model_dir(tmp_path: Path, micro_model, bpe_tokenizer) -> Path:  # noqa: ANN001
    return save_model_dir(tmp_path / "m", micro_model, bpe_tokenizer)


def _edit_config(d: Path, **changes: object) -> None:
    cfg = json.loads((d / "config.json").read_text())
    for k, v in changes.items():
        if k in cfg["model"]:
            cfg["model"][k] = v
        else:
            cfg[k] = v
    (d / "config.json").write_text(json.dumps(cfg))


CORRUPTIONS = {
    "missing dir": (lambda d: d.rename(d.with_name("gone")), "does not exist"),
    "missing config": (lambda d: (d / "config.json").unlink(), "config.json is missing"),
    "config not json": (lambda d: (d / "config.json").write_text("{"), "not valid JSON"),
    "unknown version": (lambda d: _edit_config(d, format_version=99), "format version 99"),
    "missing weights": (lambda d: (d / "model.safetensors").unlink(), "no weights"),
    "truncated weights": (
        lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:1000]),
        "truncated or not a safetensors",
    ),
    "missing tokenizer": (lambda d: (d / "tokenizer.json").unlink(), "tokenizer.json is missing"),
    "vocab mismatch": (lambda d: _edit_config(d, vocab_size=999), "tokenizer belongs to another model"),
    "shape mismatch": (lambda d: _edit_config(d, ffn_hidden=128), "has shape"),
    "fewer layers than the weights": (
        lambda d: _edit_config(d, n_layer=1),
        "not in this model, e.g. blocks.1.",
    ),
    "a size as text": (lambda d: _edit_config(d, n_layer="2"), "n_layer must be a whole number, got '2'"),
    "no rope base": (lambda d: _edit_config(d, rope_theta=None), "rope_theta must be a positive number"),
    "wrong tensors": (
        lambda d: save_file({"x": torch.zeros(2)}, str(d / "model.safetensors")),
        "do not match config.json",
    ),
    "pickle instead of weights": (
        lambda d: torch.save({"a": 1}, d / "model.safetensors"),
        "truncated or not a safetensors",
    ),
    "only a pickled checkpoint": (
        lambda d: (d / "model.safetensors").rename(d / "pytorch_model.bin"),
        "pytorch_model.bin but no model.safetensors: pickled weights are never loaded",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_each_corrupt_directory_gets_its_own_one_line_message(model_dir: Path, case: str) -> None:
    corrupt, expected = CORRUPTIONS[case]
    corrupt(model_dir)
    with pytest.raises(BashcoderError) as err:
        load_model_dir(model_dir)
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_missing_shard_is_named(tmp_path: Path, micro_model, bpe_tokenizer) -> None:  # noqa: ANN001
    d = save_model_dir(tmp_path / "m", micro_model, bpe_tokenizer, shard_bytes=400_000)
    victim = sorted(d.glob("model-*.safetensors"))[1]
    victim.unlink()
    with pytest.raises(BashcoderError, match=victim.name):
        load_model_dir(d)


def test_an_index_naming_a_shard_outside_the_model_directory_is_refused(
    tmp_path: Path,
    micro_model,
    bpe_tokenizer,  # noqa: ANN001
) -> None:
    # A downloaded model is untrusted: its index must not make the loader open files elsewhere.
    d = save_model_dir(tmp_path / "m", micro_model, bpe_tokenizer, shard_bytes=400_000)
    outside = tmp_path / "outside.safetensors"
    first = sorted(d.glob("model-*.safetensors"))[0]
    outside.write_bytes(first.read_bytes())
    original = json.loads((d / INDEX_FILE).read_text())
    for bad in ("../outside.safetensors", str(outside)):
        index = {
            **original,
            "weight_map": {k: (bad if v == first.name else v) for k, v in original["weight_map"].items()},
        }
        (d / INDEX_FILE).write_text(json.dumps(index))
        with pytest.raises(BashcoderError, match="not a file name in"):
            load_model_dir(d)
