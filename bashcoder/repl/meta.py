"""REPL commands that start with a colon: `:help`, `:set`, `:model`, `:save`, `:history`, `:clear`, `:quit`.

One table maps each name to a small function. A problem (a bad value, an
unreadable model, an unwritable file) is printed as one line and leaves the
REPL as it was.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bashcoder.engine.errors import BashcoderError
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.printing import Echo
from bashcoder.repl.rawtext import encode
from bashcoder.repl.safety import BLIND_SPOTS

SHEBANG = "#!/usr/bin/env bash"


@dataclass
class MetaEnv:
    """What meta commands may read and change."""

    assistant: Assistant
    """The model and its live settings."""
    echo: Echo
    """Where messages go."""
    accepted: list[str]
    """Commands accepted this session, oldest first (what `:save` writes)."""
    history: Callable[[], list[str]]
    """Persisted input history, oldest first."""
    cwd: Callable[[], Path]
    """The shell's working directory (relative paths resolve against it)."""
    clear: Callable[[], None]
    """Clears the screen."""


@dataclass(frozen=True)
class MetaCommand:
    usage: str
    """e.g. ':set NAME VALUE'."""
    summary: str
    """One line for :help."""
    run: Callable[[MetaEnv, list[str]], bool]
    """Does the work; returns True when the REPL should exit."""


def _help(env: MetaEnv, args: list[str]) -> bool:
    env.echo("Commands:", "info")
    for cmd in COMMANDS.values():
        env.echo(f"  {cmd.usage:<24} {cmd.summary}", "info")
    env.echo("Keys:", "info")
    for key, what in KEY_HELP:
        env.echo(f"  {key:<24} {what}", "info")
    env.echo("Suggestions:", "info")
    for line in SUGGESTION_HELP:
        env.echo(f"  {line}", "info")
    env.echo(
        "Destructive commands (rm -rf /, mkfs, dd of=/dev/sda, writes to /etc/sudoers ...) ask for a yes. "
        "The check cannot see:",
        "info",
    )
    for spot in BLIND_SPOTS:
        env.echo(f"  - {spot}", "info")
    return False


SUGGESTION_HELP = (
    ":set suggest history,model  history first (newest past command that starts with the input), then the model",
    ":set suggest model          the model only; also history, model,history",
    ":set history off            no past commands: no history suggestions, only this session's in the model's prompt",
    "history = $HISTFILE (else your $SHELL's: ~/.zsh_history, fish_history, ~/.bash_history) and this REPL's inputs; read here, never written or sent",
)


KEY_HELP: tuple[tuple[str, str], ...] = (
    ("→  End  Ctrl-E", "accept the whole suggestion"),
    ("Alt-F", "accept the suggestion's next word"),
    ("Ctrl-→  Alt-L", "accept the suggestion's first line"),
    ("Tab", "menu of candidates (✓ parses, ✗ does not)"),
    ("Enter", "run when complete bash, else a new line"),
    ("Alt-Enter", "always a new line"),
    ("Ctrl-G", "write the block a `# comment` line describes"),
    ("Ctrl-C", "cancel a generation / clear the input"),
    ("Ctrl-D", "exit (on an empty line)"),
)


def _set(env: MetaEnv, args: list[str]) -> bool:
    a = env.assistant
    if not args:
        for line in a.settings.describe():
            env.echo(f"  {line}", "info")
        return False
    if len(args) != 2:
        raise BashcoderError("usage: :set NAME VALUE, e.g. :set temperature 0.7 (:set alone lists them).")
    a.settings = a.settings.updated(args[0], args[1])
    env.echo(f"{args[0]} = {getattr(a.settings, args[0])}", "ok")
    return False


def _model(env: MetaEnv, args: list[str]) -> bool:
    if len(args) != 1:
        raise BashcoderError("usage: :model PATH (a directory with config.json and the weights).")
    path = _resolve(env, args[0])
    env.echo(f"loading {path} ...", "info")
    env.assistant.load_model(path)
    env.echo(f"model {env.assistant.model_name} on {env.assistant.device_name}", "ok")
    return False


def _save(env: MetaEnv, args: list[str]) -> bool:
    if len(args) != 1:
        raise BashcoderError("usage: :save FILE (writes the accepted commands as an executable script).")
    path = _resolve(env, args[0])
    body = "".join(cmd.rstrip("\n") + "\n" for cmd in env.accepted)
    try:
        path.write_bytes(encode(f"{SHEBANG}\n{body}"))  # bytes that are not UTF-8 are saved as typed
        path.chmod(path.stat().st_mode | 0o111)
    except OSError as exc:
        raise BashcoderError(f"cannot write {path}: {exc.strerror}; choose another file.") from exc
    env.echo(f"saved {len(env.accepted)} command(s) to {path}", "ok")
    return False


def _history(env: MetaEnv, args: list[str]) -> bool:
    try:
        count = int(args[0]) if args else 20
    except ValueError:
        count = 0
    if count < 1:
        raise BashcoderError("usage: :history [N] (the last N entries, N at least 1; 20 by default).")
    items = env.history()
    start = max(0, len(items) - count)
    for n, item in enumerate(items[start:], start=start + 1):
        first, *rest = item.split("\n")
        env.echo(f"{n:5d}  {first}" + (f"  (+{len(rest)} lines)" if rest else ""), "")
    return False


def _clear(env: MetaEnv, args: list[str]) -> bool:
    env.clear()
    return False


def _quit(env: MetaEnv, args: list[str]) -> bool:
    return True


def _resolve(env: MetaEnv, raw: str) -> Path:
    path = Path(os.path.expanduser(raw))
    return path if path.is_absolute() else env.cwd() / path


COMMANDS: dict[str, MetaCommand] = {
    "help": MetaCommand(":help", "this list", _help),
    "set": MetaCommand(":set NAME VALUE", "temperature, top_k, mode, candidates, suggest, history ...", _set),
    "model": MetaCommand(":model PATH", "load another model directory", _model),
    "save": MetaCommand(":save FILE", "write accepted commands as an executable script", _save),
    "history": MetaCommand(":history [N]", "show the last N inputs", _history),
    "clear": MetaCommand(":clear", "clear the screen", _clear),
    "quit": MetaCommand(":quit", "exit (also Ctrl-D)", _quit),
}
ALIASES = {"q": "quit", "exit": "quit", "h": "help"}


def complete_meta(text: str, setting_names: list[str]) -> str | None:
    """The rest of a `:command` (or of `:set NAME`) being typed when one name fits, else None.

    Pure. The model knows bash, not the REPL's commands: its guesses after a
    `:` (`:se` -> `:sexit`) would mislead, so a meta line is completed here.
    """
    words = text.lstrip()[1:].split(" ")
    if len(words) == 1:
        names = [c for c in COMMANDS if c.startswith(words[0])]
    elif len(words) == 2 and words[0] == "set":
        names = [n for n in setting_names if n.startswith(words[1])]
    else:
        return None
    typed = words[-1]
    return names[0][len(typed) :] + " " if len(names) == 1 and names[0] != typed else None


def run_meta(line: str, env: MetaEnv) -> bool:
    """Run a `:command`; returns True when the REPL should exit. Problems are echoed, never raised."""
    try:
        words = shlex.split(line.strip()[1:])
    except ValueError as exc:  # shlex: "No closing quotation"
        env.echo(f"error: {str(exc).lower()} in {line.strip()}; close the quote or drop it.", "error")
        return False
    if not words:
        return False
    name = ALIASES.get(words[0], words[0])
    cmd = COMMANDS.get(name)
    if cmd is None:
        env.echo(
            f"error: unknown command :{words[0]}; try :help ({', '.join(':' + c for c in COMMANDS)}).",
            "error",
        )
        return False
    try:
        return cmd.run(env, words[1:])
    except BashcoderError as exc:
        env.echo(f"error: {exc}", "error")
        return False
