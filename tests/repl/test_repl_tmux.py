"""End to end in a real terminal: tmux runs `bashcoder-repl`, we type, read the ghost text, accept and run it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bashcoder.repl.assistant import Assistant
from bashcoder.repl.config import Settings
from bashcoder.repl.context import snapshot

TMUX = shutil.which("tmux") or "/usr/bin/tmux"
REPL = Path(sys.executable).parent / "bashcoder-repl"
PREFIXES = ["echo tmux-ok # Back up", "echo tmux-ok # Remove old", "echo tmux-ok #", "echo tmux-ok # list"]

pytestmark = pytest.mark.skipif(not Path(TMUX).exists(), reason="needs tmux for a real terminal")


class Tmux:
    """A private tmux server (own socket) with one detached session."""

    def __init__(self, command: str, cwd: Path) -> None:
        self.base = [TMUX, "-L", f"bashcoder-test-{os.getpid()}-{time.monotonic_ns()}", "-f", "/dev/null"]
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("TMUX", None)
        subprocess.run(
            [*self.base, "new-session", "-d", "-s", "t", "-x", "120", "-y", "30", "-c", str(cwd), command],
            check=True,
            env=env,
        )

    def screen(self) -> list[str]:
        out = subprocess.run([*self.base, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True)
        return out.stdout.splitlines()

    def type(self, text: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "t", "-l", text], check=True)

    def key(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "t", *keys], check=True)

    def alive(self) -> bool:
        return subprocess.run([*self.base, "has-session", "-t", "t"], capture_output=True).returncode == 0

    def wait(self, cond: Callable[[list[str]], object], what: str, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if cond(lines):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; screen:\n" + "\n".join(lines))
            time.sleep(0.1)

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def ascii_suggestion(assistant: Assistant, work: Path) -> tuple[str, str]:
    assistant.context = snapshot(work, [], 40, 5)
    for prefix in PREFIXES:
        assistant.ghost.forget()
        found = assistant.suggest(prefix)
        if found is not None and found.text.strip() and found.text.isascii() and found.text.isprintable():
            return prefix, found.text
    raise AssertionError(f"no printable single-line suggestion for any of {PREFIXES}")


def test_ghost_text_in_a_real_terminal_is_accepted_and_run(
    micro_model_dir: Path, micro_generator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    work = tmp_path / "work"
    work.mkdir()
    state = tmp_path / "xdg-state"
    prefix, expected = ascii_suggestion(
        Assistant(micro_generator, Settings(temperature=0.0, time_budget_ms=0)), work
    )
    start = f"$ {prefix}"
    tmux = Tmux(
        f"env XDG_STATE_HOME={state} {REPL} --model {micro_model_dir} --temperature 0 --time-budget-ms 0",
        work,
    )
    try:
        tmux.wait(lambda s: any(line == "$" for line in s) and "micro" in s[-1], "the prompt and toolbar")
        tmux.type(prefix)
        lines = tmux.wait(
            lambda s: any(line.startswith(start) and len(line) > len(start) for line in s), "ghost text"
        )
        ghost = next(line for line in lines if line.startswith(start))[len(start) :]
        assert ghost == expected.rstrip()
        tmux.key("Right")
        tmux.key("Enter")
        lines = tmux.wait(lambda s: any(line.startswith("✓ exit 0") for line in s), "the command to run")
        assert "tmux-ok" in lines
        history = (state / "bashcoder" / "history").read_text()
        assert f"+{prefix}{expected}\n" in history  # what ran is prefix + accepted ghost text
        tmux.type(":quit")
        tmux.key("Enter")
        deadline = time.monotonic() + 20
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not tmux.alive()
    finally:
        tmux.kill()


def test_a_model_that_fails_to_load_leaves_the_terminal_as_it_was(tmp_path: Path) -> None:
    script = (
        f"stty -g > {tmp_path}/before; {REPL} --model {tmp_path}/missing 2> {tmp_path}/err; "
        f"echo $? > {tmp_path}/rc; stty -g > {tmp_path}/after; sleep 30"
    )
    tmux = Tmux(f"sh -c '{script}'", tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "after").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)
        assert (tmp_path / "rc").read_text().strip() == "1"
        err = (tmp_path / "err").read_text().strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: model directory") and "--model" in err[0]
        assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text()
    finally:
        tmux.kill()
