"""Fixtures for the trainer's tests (helpers live in trainer_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from trainer_helpers import fixture_docs, write_corpus


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Micro models gain nothing from a second thread, and on a busy shared machine
    OpenMP's barriers between two threads made a 30 ms step take 400 ms."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "data", fixture_docs())
