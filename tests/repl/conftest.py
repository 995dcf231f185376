"""REPL fixtures: an Assistant on the real micro model (greedy, so runs repeat), and a clean state dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from bashcoder.repl.assistant import Assistant, load
from bashcoder.repl.config import Settings


@pytest.fixture(scope="session")
def micro_generator(micro_model_dir: Path):  # type: ignore[no-untyped-def]
    return load(micro_model_dir, "cpu")


@pytest.fixture
def assistant(micro_generator) -> Assistant:  # type: ignore[no-untyped-def]
    """A fresh Assistant (own settings, context and type-through memory) on the shared model."""
    # No time budget: on a busy test machine it would cut the answers these tests compare.
    return Assistant(micro_generator, Settings(temperature=0.0, seed=0, time_budget_ms=0))


@pytest.fixture(autouse=True)
def _state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """History never lands in the real ~/.local/state, and the user's own shell history is never read."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.setenv("HISTFILE", str(tmp_path / "no-shell-history"))
    return state
