"""The clients' tests: the editors tier's marker."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "editors: drives a real editor (code-server, Neovim in tmux, Emacs); make test-editors"
    )
