"""What the server tests share: how to start bashcoder-lsp and the settings they run with."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lsprotocol import types as lsp

LSP_BIN = str(Path(sys.executable).with_name("bashcoder-lsp"))
# No time budget: on a busy test machine it would cut the answers these tests compare.
TEST_SETTINGS = {
    "temperature": 0,
    "candidates": 1,
    "maxTokens": 16,
    "timeBudgetMs": 0,
    "mode": "line",
    "enabled": True,
}
CAPABILITIES = lsp.ClientCapabilities(
    window=lsp.WindowClientCapabilities(work_done_progress=True),
    workspace=lsp.WorkspaceClientCapabilities(configuration=True, apply_edit=True),
    experimental={"bashcoderStatus": True},  # as our editor clients ask: a status per completion
)


def lsp_command(*args: str) -> list[str]:
    """The server command; -v puts the worker's decisions (stale, type-through) in the log."""
    if os.path.exists(LSP_BIN):
        return [LSP_BIN, "-v", *args]
    return [sys.executable, "-c", "from bashcoder.cli.lsp import main; main()", "-v", *args]
