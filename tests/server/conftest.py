"""A real bashcoder-lsp subprocess with the micro model, shared by the protocol tests.

Each test gets the shared server with the test settings (greedy, one candidate,
line mode) put back, and its own document URIs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bashcoder.server.harness import ServerProcess

sys.path.insert(0, str(Path(__file__).parent))
from lsp_testing import CAPABILITIES, TEST_SETTINGS, lsp_command  # noqa: E402


@pytest.fixture(scope="session")
def model_dir(micro_model_dir: Path) -> Path:
    """The micro model every server test loads (trained once per session in tests/conftest.py)."""
    return micro_model_dir


@pytest.fixture(scope="session")
def lsp_server(model_dir: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(lsp_command("--model", str(model_dir)))
    result = server.start(init_options={"bashcoder": TEST_SETTINGS}, capabilities=CAPABILITIES)
    server.initialize_result = result  # type: ignore[attr-defined]
    server.wait_ready()
    yield server
    assert server.stop() == 0, server.stderr[-3000:]


@pytest.fixture()
def server(lsp_server: ServerProcess) -> ServerProcess:
    """The shared server with the test settings."""
    assert lsp_server.alive, lsp_server.stderr[-3000:]
    lsp_server.configure({"bashcoder": TEST_SETTINGS})
    return lsp_server


@pytest.fixture()
def uri(request: pytest.FixtureRequest) -> str:
    return f"file:///tmp/bashcoder-tests/{request.node.name}.sh"
