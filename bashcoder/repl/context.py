"""What the model sees before the user's input: where the user is and what they just ran.

`build_context` is a pure function of file names and commands; `snapshot`
reads the directory. The context is built once per prompt, not per keystroke,
so the prompt's start stays byte-identical while the user types and the
engine's prefix cache and type-through keep working.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

MAX_COMMAND_CHARS = 400
MAX_LINE_CHARS = 300


def build_context(directory: str, files: Sequence[str], commands: Sequence[str]) -> str:
    """A few lines of bash that set the scene, ending in a newline (or empty).

    A comment names the directory and its files; the recent commands follow as
    they were typed, oldest first, so the user's input reads as the next command.
    """
    lines: list[str] = []
    if directory or files:
        line = f"# in {directory or '.'}"
        if files:
            line += ": " + " ".join(files)
        if len(line) > MAX_LINE_CHARS:
            line = line[: line.rfind(" ", 0, MAX_LINE_CHARS)] + " ..."
        lines.append(line)
    for cmd in commands:
        cmd = cmd.strip("\n")
        if cmd.strip() and len(cmd) <= MAX_COMMAND_CHARS:
            lines.append(cmd)
    return "".join(line + "\n" for line in lines)


def list_files(cwd: Path, limit: int) -> list[str]:
    """Visible entries of `cwd`, sorted, directories marked with '/'; at most `limit`."""
    try:
        with os.scandir(cwd) as it:
            entries = [(e.name, _is_dir(e)) for e in it if not e.name.startswith(".")]
    except OSError:
        return []
    entries.sort()
    return [name + ("/" if is_dir else "") for name, is_dir in entries[:limit]]


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def snapshot(cwd: Path, recent: Sequence[str], max_files: int, max_commands: int) -> str:
    """The context for a prompt in `cwd` after the commands `recent` (oldest first)."""
    files = list_files(cwd, max_files) if max_files > 0 else []
    commands = list(recent)[-max_commands:] if max_commands > 0 else []
    return build_context(cwd.name or str(cwd), files, commands)
