"""Real fixtures for the collector: script trees, local git repositories cloned by file:// URL, and
.deb packages built with `dpkg-deb --build` (builders in collect_fixtures.py). Nothing is mocked;
the network is used only by tests marked `network`, which skip with a reason when apt cannot
reach a mirror.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bashcoder.cli.collect import main as command


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """XDG_CACHE_HOME in the test's temp dir, so clones never touch the real cache."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture
def collect(cache_home: Path) -> Callable[..., Result]:
    """Run `bashcoder-collect ARGS -q` in-process and return click's Result (stdout/stderr/exit_code)."""

    def run(*args: str | Path) -> Result:
        return CliRunner().invoke(command, [str(a) for a in args] + ["-q"], catch_exceptions=False)

    return run


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "network: needs apt-get and a reachable Debian mirror")
