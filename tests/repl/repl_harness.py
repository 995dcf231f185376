"""Drive a real `Repl` (PromptSession on a pipe input, DummyOutput) from async test code."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

from prompt_toolkit.history import History, InMemoryHistory
from prompt_toolkit.input import PipeInput
from prompt_toolkit.output import DummyOutput

from bashcoder.repl.app import Repl
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.config import ReplConfig
from bashcoder.repl.context import snapshot
from bashcoder.repl.printing import list_echo
from bashcoder.repl.runner import Shell

RIGHT = "\x1b[C"
END = "\x1b[F"
CTRL_E = "\x05"
CTRL_F = "\x06"
CTRL_RIGHT = "\x1b[1;5C"
ALT_F = "\x1bf"
ALT_L = "\x1bl"
ALT_ENTER = "\x1b\r"
TAB = "\t"
ENTER = "\r"
CTRL_C = "\x03"
CTRL_D = "\x04"
CTRL_G = "\x07"

PREFIXES = [
    "tar -c",
    "mkdir -p ",
    "echo ",
    "ls -",
    "grep -",
    "count=",
    "cp ",
    "find . -",
    "for f in",
    "if [ ",
]


def work_dir(tmp_path: Path) -> Path:
    """The REPL's working directory: the same name in every test, so the context is the same."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return work


def make_repl(
    assistant: Assistant,
    inp: PipeInput,
    tmp_path: Path,
    *,
    suggest: bool = True,
    execute: bool = True,
    env: dict[str, str] | None = None,
    history: History | None = None,
    use_default_history: bool = False,
    shell_history: Path | None = None,
    context_files: int = ReplConfig.context_files,
) -> tuple[Repl, list[tuple[str, str]]]:
    lines: list[tuple[str, str]] = []
    config = ReplConfig(
        execute=execute,
        ghost_text=suggest,
        settings=assistant.settings,
        shell_history=shell_history,
        context_files=context_files,
    )
    repl = Repl(
        assistant,
        config,
        shell=Shell(cwd=work_dir(tmp_path), env=env if env is not None else dict(os.environ)),
        input=inp,
        output=DummyOutput(),
        echo=list_echo(lines),
        history=None if use_default_history else (history or InMemoryHistory()),
    )
    return repl, lines


def prefix_with_suggestion(assistant: Assistant, tmp_path: Path, min_words: int = 2) -> tuple[str, str]:
    """A prefix the model (greedy) answers with ghost text of at least `min_words` words, and that text.

    The model is a real micro model, so which prefix works depends on its
    training; asking it here keeps the tests independent of that.
    """
    assistant.context = snapshot(work_dir(tmp_path), [], 40, 5)
    try:
        for prefix in PREFIXES:
            assistant.ghost.forget()
            found = assistant.suggest(prefix)
            if found is not None and len(found.text.split()) >= min_words:
                return prefix, found.text
    finally:
        assistant.ghost.forget()
    raise AssertionError(f"the micro model suggested nothing of {min_words}+ words for any of {PREFIXES}")


async def until(cond: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def echoed(lines: list[tuple[str, str]]) -> str:
    return "\n".join(text for text, _ in lines)
