"""`:set` and the command line change settings only to valid values, with a message naming the fix."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bashcoder.engine.errors import BashcoderError
from bashcoder.repl.config import ReplConfig, Settings, default_history_file, state_dir


def test_set_parses_each_kind_of_value() -> None:
    s = Settings()
    assert s.updated("temperature", "0.7").temperature == 0.7
    assert s.updated("top_k", "10").top_k == 10
    assert s.updated("top_p", "0.5").top_p == 0.5
    assert s.updated("max_tokens", "16").max_tokens == 16
    assert s.updated("time_budget_ms", "0").time_budget_ms == 0
    assert s.updated("mode", "line").mode == "line"
    assert s.updated("seed", "3").seed == 3
    assert s.updated("seed", "none").seed is None


@pytest.mark.parametrize(
    ("name", "raw", "needle"),
    [
        ("temperature", "hot", "takes a number"),
        ("temperature", "-1", "from 0 to 2"),
        ("top_k", "1.5", "takes an integer"),
        ("top_p", "0", "top_p"),
        ("mode", "paragraph", "line, block, auto"),
        ("candidates", "99", "from 1 to 16"),
        ("time_budget_ms", "-5", "from 0 to 60000"),
        ("colour", "red", "settable: temperature"),
    ],
)
def test_bad_values_name_the_fix(name: str, raw: str, needle: str) -> None:
    with pytest.raises(BashcoderError, match=needle):
        Settings().updated(name, raw)


def test_sampling_follows_the_settings() -> None:
    s = Settings(temperature=0.3, top_k=5, top_p=0.9, max_tokens=12, seed=1)
    cfg = s.sampling(candidates=3, temperature=0.8)
    assert (cfg.temperature, cfg.top_k, cfg.top_p, cfg.max_tokens, cfg.num_candidates, cfg.seed) == (
        0.8, 5, 0.9, 12, 3, 1,
    )  # fmt: skip


def test_every_field_is_documented() -> None:
    import inspect

    for cls in (Settings, ReplConfig):
        source = inspect.getsource(cls)
        for f in dataclasses.fields(cls):
            after = source.split(f"    {f.name}:", 1)[1].split("\n", 2)[1]
            assert after.strip().startswith('"""'), f"{cls.__name__}.{f.name} has no docstring"


def test_history_lives_in_the_xdg_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_history_file() == tmp_path / "bashcoder" / "history"
    monkeypatch.setenv("XDG_STATE_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert state_dir() == tmp_path / ".local" / "state" / "bashcoder"
    assert ReplConfig(history_file=tmp_path / "h").history_path() == tmp_path / "h"
