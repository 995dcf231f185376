"""The REPL without a terminal: each input line is printed with its completion.

`printf 'tar -c\n# list big files\n' | bashcoder-repl` prints `tar -c...` completed
on one line, and the comment followed by the block it describes (as Ctrl-G
would write it). `:set`, `:model`, `:help` and `:quit` lines work as in the
REPL; nothing is ever executed. Suggestions come from the model alone, with
the previous piped lines as context: the shell's history is not read, so the
output depends only on the input. Lines are bytes in and bytes out (see
`launch.py`): a line that is not UTF-8 is completed and printed as it came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from bashcoder.repl.assistant import Assistant
from bashcoder.repl.check import is_meta
from bashcoder.repl.config import ReplConfig
from bashcoder.repl.context import snapshot
from bashcoder.repl.meta import MetaEnv, run_meta
from bashcoder.repl.printing import Echo


def complete_line(assistant: Assistant, line: str) -> str:
    """`line` with its completion: a comment gets the block under it, a command its rest."""
    if line.lstrip().startswith("#"):
        indent = line[: len(line) - len(line.lstrip())]
        block = assistant.generate_block(line + "\n" + indent)
        return f"{line}\n{indent}{block}" if block else line
    if not line.strip():
        return line
    found = assistant.suggest(line, timed=False)  # a script's output must not depend on the clock
    return line + found.text if found is not None else line


def run_scripted(
    assistant: Assistant,
    lines: Iterable[str],
    write: Callable[[str], None],
    echo: Echo,
    config: ReplConfig | None = None,
    cwd: Path | None = None,
) -> None:
    """Complete each line of `lines` and `write` the result; `echo` gets meta commands' messages."""
    config = config or ReplConfig()
    where = cwd or Path.cwd()
    previous: list[str] = []
    env = MetaEnv(
        assistant=assistant,
        echo=echo,
        accepted=previous,
        history=lambda: list(previous),
        cwd=lambda: where,
        clear=lambda: None,
    )
    for raw in lines:
        line = raw.rstrip("\r\n")
        if is_meta(line):
            if run_meta(line, env):
                return
            continue
        assistant.context = snapshot(where, previous, config.context_files, config.context_commands)
        assistant.ghost.forget()
        write(complete_line(assistant, line))
        if line.strip():
            previous.append(line)
