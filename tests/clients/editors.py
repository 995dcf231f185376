"""What the editors tier shares: where `scripts/install-editors.sh` put the editors, and skip reasons.

The tier (`make test-editors`, marker `editors`) drives real editors against the real server and the
shipped model: code-server (VS Code) in headless Chromium, Neovim in tmux, Emacs with eglot. Each
test skips with the command that installs what it lacks; nothing here is a stand-in for an editor.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = "run make test-editors or scripts/install-editors.sh"
CACHE = Path(
    os.environ.get("BASHCODER_EDITORS_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bashcoder" / "editors"
)
"""Where scripts/install-editors.sh installs (keep the two in step)."""
ARTIFACTS = ROOT / "out" / "editors"
"""Screenshots and logs the tier keeps (gitignored)."""

LSP_BIN = Path(sys.executable).with_name("bashcoder-lsp")

# The shipped model, greedy and one candidate, so that what the editor shows is what the server
# answered; no time budget, so a busy test machine shows whole suggestions.
SETTINGS = {"temperature": 0, "candidates": 1, "maxTokens": 16, "timeBudgetMs": 0, "mode": "line"}

SCRIPT = """\
#!/bin/bash
# Back up the home directory into a dated, compressed archive.
set -euo pipefail
backup_dir=/var/backups
"""


def missing_server() -> str | None:
    return None if LSP_BIN.exists() else f"{LSP_BIN} is not installed (make install)"


def missing_program(name: str, package: str) -> str | None:
    return (
        None if shutil.which(name) else f"{name} is not installed (apt-get install {package}, or {INSTALL})"
    )


def emacs_with_eglot() -> str | None:
    """None when Emacs can load eglot, else why not."""
    if reason := missing_program("emacs", "emacs-nox"):
        return reason
    probe = subprocess.run(
        ["emacs", "--batch", "--eval", "(require 'eglot)"], capture_output=True, text=True, timeout=60
    )
    return None if probe.returncode == 0 else f"Emacs has no eglot (apt-get install elpa-eglot, or {INSTALL})"


def skip_unless(reason: str | None) -> pytest.MarkDecorator:
    return pytest.mark.skipif(reason is not None, reason=reason or "")
