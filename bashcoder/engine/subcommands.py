"""Whether a suggestion names a subcommand its program has: `git step` is not git's.

The shipped model completes `git st` from the directory listing in its prompt as often as from git
(`git step`, `git stress-tools/` were shown); a shell's own completion never offers a subcommand
the program lacks. Git lists its commands, aliases included, with `git --list-cmds` (git 2.19+),
so its words are checked against that list; other programs' are not (their help has no stable
listing). Used by the completer for every surface (terminal ghost text and menu, editor
suggestions). Pure but for the one cached `git` call.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from functools import lru_cache

LIST_TIMEOUT_S = 2.0
"""At most this long for `git --list-cmds` (~5 ms here); past it, nothing is judged."""


@lru_cache(maxsize=1)
def git_subcommands() -> frozenset[str] | None:
    """Git's commands and the user's aliases (`git --list-cmds=main,others,alias,nohelpers`), or
    None when git is missing, too old for the option, or fails: then no suggestion is judged."""
    exe = shutil.which("git")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "--list-cmds=main,others,alias,nohelpers"],
            capture_output=True,
            text=True,
            timeout=LIST_TIMEOUT_S,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = frozenset(out.split())
    return names or None


# git, after a line's start, a separator or sudo, then its global options (some take a value),
# then the subcommand's word.
_GIT_SUBCOMMAND = re.compile(
    r"(?:^|[;&|(]|\bsudo)[ \t]*git"
    r"((?:[ \t]+(?:-C|-c|--git-dir|--work-tree|--namespace|--exec-path)[ \t]+\S+|[ \t]+--?[\w-]+(?:=\S+)?)*)"
    r"[ \t]+([A-Za-z][\w.-]*)(?=[ \t;&|)]|$)",
    re.M,
)


def _cursor_line(before: str, text: str) -> tuple[str, int, int]:
    """`before + text` and the span of the line the cursor is on: a multi-line suggestion's later
    lines are its own commands, judged where they are typed."""
    line = before + text
    end = line.find("\n", len(before))
    return line, line.rfind("\n", 0, len(before)) + 1, len(line) if end < 0 else end


def _unknown_word(
    before: str, text: str, finished: bool, known: Callable[[], frozenset[str] | None]
) -> tuple[re.Match[str], frozenset[str]] | None:
    """The first subcommand word on the cursor's line that the suggestion writes and git lacks
    (its match, and git's names); None when there is none or git cannot say."""
    line, start, end = _cursor_line(before, text)
    for m in _GIT_SUBCOMMAND.finditer(line, start, end):
        if m.end(2) <= len(before) or (not finished and m.end(2) == len(line)):
            continue
        names = known()
        if names is None:
            return None
        if m.group(2) not in names:
            return m, names
    return None


def unknown_subcommand(
    before: str,
    text: str,
    finished: bool = True,
    known: Callable[[], frozenset[str] | None] = git_subcommands,
) -> str | None:
    """The git subcommand that suggestion `text`, after the typed `before`, writes or completes and
    git does not have (`git st` + `ep` -> "step"); None when it has it, the user typed the word
    whole, or git cannot say. `finished` False (a suggestion cut by its time budget) leaves a word
    at the very end unjudged: it may be half written.
    """
    found = _unknown_word(before, text, finished, known)
    return found[0].group(2) if found else None


def fit_subcommand(
    before: str,
    text: str,
    finished: bool = True,
    known: Callable[[], frozenset[str] | None] = git_subcommands,
) -> str | None:
    """Suggestion `text` as it may be shown after `before`: unchanged when its git subcommand is one
    git has; cut after the longest one that starts the word at a `-`, `_` or `.` (`git st` +
    `atus-remote` -> `atus`: `git status`); None when none does (`git st` + `ep`).
    """
    found = _unknown_word(before, text, finished, known)
    if found is None:
        return text
    m, names = found
    bad = m.group(2)
    fits = [n for n in names if bad.startswith(n) and len(n) < len(bad) and bad[len(n)] in "-_."]
    cut = m.start(2) + max(map(len, fits), default=0)
    return text[: cut - len(before)] if fits and cut > len(before) else None
