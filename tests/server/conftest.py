"""A real bashcoder-lsp subprocess with the micro model, shared by the protocol tests.

Each test gets the shared server with the test settings (greedy, one candidate,
line mode) put back, and its own document URIs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsp_harness import ServerProcess

from bashcoder.engine.checkpoint import save_model_dir
from bashcoder.engine.config import ModelConfig
from bashcoder.engine.model import build_model
from bashcoder.engine.tokenizer import BpeTokenizer

sys.path.insert(0, str(Path(__file__).parent))
from lsp_testing import CAPABILITIES, TEST_SETTINGS, lsp_command  # noqa: E402


@pytest.fixture(scope="session")
def model_dir(micro_model_dir: Path) -> Path:
    """The micro model every server test loads (trained once per session in tests/conftest.py)."""
    return micro_model_dir


def _serve(model_dir: Path) -> Iterator[ServerProcess]:
    """A started, model-loaded server subprocess with the test settings; stopped cleanly after."""
    server = ServerProcess(lsp_command("--model", str(model_dir)))
    result = server.start(init_options={"bashcoder": TEST_SETTINGS}, capabilities=CAPABILITIES)
    server.initialize_result = result  # type: ignore[attr-defined]
    server.wait_ready()
    yield server
    assert server.stop() == 0, server.stderr[-3000:]


@pytest.fixture(scope="session")
def lsp_server(model_dir: Path) -> Iterator[ServerProcess]:
    yield from _serve(model_dir)


@pytest.fixture(scope="session")
def slow_model_dir(tmp_path_factory: pytest.TempPathFactory, bpe_tokenizer: BpeTokenizer) -> Path:
    """Random weights, wider and with a long context: its candidates almost never end early,
    so one request decodes for a good while on any machine (cancellation tests need that)."""
    cfg = ModelConfig(
        n_layer=4,
        n_embd=256,
        n_head=4,
        ffn_hidden=1024,
        context_length=1024,
        vocab_size=bpe_tokenizer.vocab_size,
    )
    return save_model_dir(tmp_path_factory.mktemp("slow") / "m", build_model(cfg), bpe_tokenizer)


@pytest.fixture(scope="session")
def slow_server(slow_model_dir: Path) -> Iterator[ServerProcess]:
    """A second server whose long requests reliably run long enough to cancel or supersede."""
    yield from _serve(slow_model_dir)


@pytest.fixture()
def server(lsp_server: ServerProcess) -> ServerProcess:
    """The shared server with the test settings."""
    assert lsp_server.alive, lsp_server.stderr[-3000:]
    lsp_server.configure({"bashcoder": TEST_SETTINGS})
    return lsp_server


@pytest.fixture()
def uri(request: pytest.FixtureRequest) -> str:
    return f"file:///tmp/bashcoder-tests/{request.node.name}.sh"
