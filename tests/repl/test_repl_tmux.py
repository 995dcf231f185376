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

    def __init__(self, command: str, cwd: Path, width: int = 120, height: int = 30) -> None:
        self.base = [TMUX, "-L", f"bashcoder-test-{os.getpid()}-{time.monotonic_ns()}", "-f", "/dev/null"]
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("TMUX", None)
        subprocess.run(
            [
                *self.base,
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                str(width),
                "-y",
                str(height),
                "-c",
                str(cwd),
                command,
            ],
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

    def raw(self, data: bytes) -> None:
        """Send bytes as they are, valid UTF-8 or not."""
        subprocess.run([*self.base, "send-keys", "-t", "t", "-H", *(f"{b:02x}" for b in data)], check=True)

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


def test_a_wrapped_command_reads_as_one_line_and_only_new_lines_get_the_continuation_prompt(
    micro_model_dir: Path, tmp_path: Path
) -> None:
    long = "echo " + "x" * 80  # wider than the 60-column terminal
    tmux = Tmux(
        f"env HISTFILE={tmp_path}/none {REPL} --model {micro_model_dir} --no-suggest --no-exec; sleep 30",
        tmp_path,
        width=60,
    )
    try:
        tmux.wait(lambda s: any(line == "$" for line in s), "the prompt")
        tmux.type(long)
        lines = tmux.wait(lambda s: any(line.startswith("$ echo xxx") for line in s), "the long command")
        row = next(i for i, line in enumerate(lines) if line.startswith("$ echo xxx"))
        assert lines[row] + lines[row + 1] == "$ " + long  # wrapped straight on, no "> " in between
        tmux.key("C-c")
        tmux.type("if true; then")
        tmux.key("Enter")
        tmux.type("echo in")
        lines = tmux.wait(lambda s: any(line.startswith(">") and "echo in" in line for line in s), "line two")
        assert ">     echo in" in lines  # a new line of the command does get the continuation prompt
        tmux.key("C-c")
        tmux.raw(b"echo caf\xe9 ")  # not UTF-8, typed in a real terminal
        tmux.key("Enter")
        tmux.wait(lambda s: any("(--no-exec: not run)" in line for line in s), "the command taken")
        assert tmux.alive() and not any("Traceback" in line for line in tmux.screen())
    finally:
        tmux.kill()


def test_history_ghost_text_and_its_source_in_a_real_terminal(micro_model_dir: Path, tmp_path: Path) -> None:
    history = tmp_path / "bash_history"
    history.write_text("docker compose up -d --build\n")
    tmux = Tmux(f"env HISTFILE={history} {REPL} --model {micro_model_dir} --no-exec; sleep 30", tmp_path)
    try:
        tmux.wait(lambda s: any(line == "$" for line in s), "the prompt")
        tmux.type("docker comp")
        lines = tmux.wait(
            lambda s: any(line.startswith("$ docker compose up -d --build") for line in s),
            "history ghost text",
        )
        assert "from history" in lines[-1]  # the toolbar names the source
    finally:
        tmux.kill()


def test_ctrl_c_ends_the_command_not_the_repl_and_exit_leaves_in_a_real_terminal(
    micro_model_dir: Path, tmp_path: Path
) -> None:
    # asyncio's SIGINT handler once cancelled the REPL when the interrupted command ended.
    tmux = Tmux(
        f"env HISTFILE={tmp_path}/none {REPL} --model {micro_model_dir} --no-suggest; echo REPL-ENDED=$?; sleep 30",
        tmp_path,
    )
    try:
        tmux.wait(lambda s: any(line == "$" for line in s), "the prompt")
        tmux.type("sleep 30")
        tmux.key("Enter")
        tmux.wait(lambda s: any(line.startswith("$ sleep 30") for line in s), "the command running")
        time.sleep(0.5)
        tmux.key("C-c")
        tmux.wait(lambda s: any("✗ exit 130" in line for line in s), "the command interrupted")
        tmux.type("printf no-newline")  # the status still gets a line of its own
        tmux.key("Enter")
        lines = tmux.wait(lambda s: any(line.startswith("✓ exit 0") for line in s), "the next command run")
        assert any(line.startswith("no-newline") for line in lines)
        assert not any("REPL-ENDED" in line for line in lines)
        tmux.type("exit")
        tmux.key("Enter")
        tmux.wait(lambda s: any("REPL-ENDED=0" in line for line in s), "the REPL to leave on exit")
    finally:
        tmux.kill()


def test_a_dumb_terminal_or_a_piped_stdout_is_said_in_one_line(micro_model_dir: Path, tmp_path: Path) -> None:
    tmux = Tmux(
        f"env TERM=dumb HISTFILE={tmp_path}/none {REPL} --model {micro_model_dir} --no-suggest --no-exec; sleep 30",
        tmp_path,
    )
    try:
        lines = tmux.wait(lambda s: any("TERM=dumb" in line for line in s), "the notice")
        assert not any("Traceback" in line for line in lines)
    finally:
        tmux.kill()
    tmux = Tmux(f"{REPL} --model {micro_model_dir} --no-exec | cat; sleep 30", tmp_path)
    try:
        tmux.wait(lambda s: any("stdout is not a terminal" in line for line in s), "the notice")
    finally:
        tmux.kill()
