"""Whether a suggestion names a subcommand its program has: `git step` is not git's.

The shipped model completes `git st` from the directory listing in its prompt as often as from git
(`git step`, `git stress-tools/` were shown), `docker ru` to `docker rucp-cap-drop` and `kubectl get`
to `kubectl get-workspaces/...`; a shell's own completion never offers a subcommand the program
lacks. Programs that list their subcommands in a machine-readable way are asked, once per process,
the way their own shell completion asks them (LISTERS): git (`git --list-cmds`, aliases included),
the Cobra programs (`docker`, `kubectl`, `helm`, `gh`, `podman`, `minikube`, `kind`: the hidden
`__complete` command their completion scripts call), pip (`PIP_AUTO_COMPLETE`), npm (`npm
completion`, aliases included) and cargo (`cargo --list`). Other programs' words are not judged:
their help has no stable listing. Only the first word after the program is judged (for git, after
its global options too). Used by the completer for every surface (terminal ghost text and menu,
editor suggestions). Pure but for the listings, made in the background the first time a program
is seen and cached for the process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

LIST_TIMEOUT_S = 2.0
"""At most this long for one program's listing (git ~5 ms, docker and npm ~0.1 s, pip ~0.2 s here);
past it, that program's words are not judged."""


def _cobra(out: str) -> Iterable[str]:
    # `name<TAB>description` lines, then `:<directive>`; `_activeHelp_` lines are hints.
    for line in out.splitlines():
        if line and not line.startswith((":", "_activeHelp_")):
            yield line.split("\t", 1)[0]


def _cargo(out: str) -> Iterable[str]:
    # "Installed Commands:" then `    name   description` (aliases: `    b   alias: build`).
    for line in out.splitlines():
        if line.startswith("    ") and line.strip():
            yield line.split()[0]


@dataclass(frozen=True)
class Lister:
    """How a program lists its subcommands for its shell completion."""

    args: tuple[str, ...]
    """Arguments after the program's path."""
    parse: Callable[[str], Iterable[str]]
    """The names in its standard output."""
    env: tuple[tuple[str, str], ...] = ()
    """Variables its completion protocol reads."""


_COBRA = Lister(("__complete", ""), _cobra)
LISTERS: dict[str, Lister] = {
    "git": Lister(("--list-cmds=main,others,alias,nohelpers",), str.split),
    **dict.fromkeys(("docker", "kubectl", "helm", "gh", "podman", "minikube", "kind"), _COBRA),
    **{
        pip: Lister(
            (), str.split, (("PIP_AUTO_COMPLETE", "1"), ("COMP_WORDS", f"{pip} "), ("COMP_CWORD", "1"))
        )
        for pip in ("pip", "pip3")
    },
    "npm": Lister(
        ("completion", "--", "npm", ""),
        str.split,
        (("COMP_CWORD", "1"), ("COMP_LINE", "npm "), ("COMP_POINT", "4")),
    ),
    "cargo": Lister(("--list",), _cargo),
}
"""Programs whose subcommands are checked, and how each lists them."""


FIRST_WAIT_S = 0.15
"""How long the first keystroke that names a program waits for its listing before going on without
it (once per program and process): git (~5 ms), docker and kubectl (~0.03-0.1 s, cold) are judged
from their first suggestion, pip (~0.4 s) from a later one."""

_LISTED: dict[str, frozenset[str] | None] = {}
_STARTED: dict[str, threading.Thread] = {}
_LOCK = threading.Lock()


def program_subcommands(program: str) -> frozenset[str] | None:
    """The subcommands (and aliases) `program` lists for its shell completion, or None when it is
    not in LISTERS, not installed, too old for its listing, or fails: then none of its words is
    judged. Runs the program once per process (up to LIST_TIMEOUT_S); later calls are cached."""
    if program in _LISTED:
        return _LISTED[program]
    lister = LISTERS.get(program)
    exe = shutil.which(program) if lister is not None else None
    names: frozenset[str] | None = None
    if lister is not None and exe is not None:
        try:
            out = subprocess.run(
                [exe, *lister.args],
                capture_output=True,
                text=True,
                timeout=LIST_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **dict(lister.env)},
                check=False,  # pip's completion exits 1 after printing; an empty listing says no
            ).stdout
            names = frozenset(n for n in lister.parse(out) if re.fullmatch(r"\w[\w.:+-]*", n)) or None
        except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
            names = None
    _LISTED[program] = names
    return names


def listed_subcommands(program: str) -> frozenset[str] | None:
    """`program_subcommands` without holding a keystroke up: the first call starts the listing in
    the background and waits at most FIRST_WAIT_S for it; until it is ready the program's words are
    not judged (None)."""
    if program in _LISTED:
        return _LISTED[program]
    if program not in LISTERS:
        return None
    with _LOCK:
        thread = _STARTED.get(program)
        first = thread is None
        if thread is None:
            thread = _STARTED[program] = threading.Thread(
                target=program_subcommands, args=(program,), name=f"list-{program}", daemon=True
            )
            thread.start()
    if first:
        thread.join(FIRST_WAIT_S)
    return _LISTED.get(program)


def git_subcommands() -> frozenset[str] | None:
    """Git's commands and the user's aliases (`git --list-cmds=main,others,alias,nohelpers`)."""
    return program_subcommands("git")


_VALUE = r"""(?:"[^"\n]*"|'[^'\n]*'|[^\s"'])+"""
"""An option's value: words and quoted runs glued together (`user.name="Jane Doe"`)."""


@lru_cache(maxsize=4)
def _subcommand_pattern(programs: tuple[str, ...]) -> re.Pattern[str]:
    """A program of `programs` after a line's start, a separator or sudo; for git its global options
    (some take a value); then the subcommand's word, whatever follows it (`git stcp://host`,
    `kubectl get-workspaces/x`: no program has a command that runs into a `:` or a `/`)."""
    names = "|".join(sorted(map(re.escape, programs), key=len, reverse=True))
    return re.compile(
        r"(?:^|[;&|(]|\bsudo)[ \t]*(?P<prog>" + names + r")"
        r"(?P<opts>(?:[ \t]+(?:-C|-c|--git-dir|--work-tree|--namespace|--exec-path)[ \t]+"
        + _VALUE
        + r"|[ \t]+--?[\w-]+(?:="
        + _VALUE
        + r")?)*)"
        # Not a word a quote or `=` follows: the rest of a quoted value (`-c user.name="Jane Doe"`).
        r"[ \t]+(?P<word>[A-Za-z][\w.-]*)(?![\w.\-'\"=])",
        re.M,
    )


def _cursor_line(before: str, text: str) -> tuple[str, int, int]:
    """`before + text` and the span of the line the cursor is on: a multi-line suggestion's later
    lines are its own commands, judged where they are typed."""
    line = before + text
    end = line.find("\n", len(before))
    return line, line.rfind("\n", 0, len(before)) + 1, len(line) if end < 0 else end


def _unknown_word(
    before: str, text: str, finished: bool, known: Callable[[str], frozenset[str] | None]
) -> tuple[re.Match[str], frozenset[str]] | None:
    """The first subcommand word on the cursor's line that the suggestion writes and its program
    lacks (its match, and the program's names); None when there is none or no program can say."""
    line, start, end = _cursor_line(before, text)
    for m in _subcommand_pattern(tuple(LISTERS)).finditer(line, start, end):
        if m.end("word") <= len(before) or (not finished and m.end("word") == len(line)):
            continue  # a word the user typed is theirs (a repo's own alias, npm's abbreviations)
        if m["opts"] and m["prog"] != "git":
            continue  # another program's options may take values: which word is the command is unclear
        names = known(m["prog"])
        if names is not None and m["word"] not in names:
            return m, names
    return None


def unknown_subcommand(
    before: str,
    text: str,
    finished: bool = True,
    known: Callable[[str], frozenset[str] | None] = listed_subcommands,
) -> str | None:
    """The subcommand that suggestion `text`, after the typed `before`, writes or completes and its
    program does not have (`git st` + `ep` -> "step"); None when it has it, the user typed the word
    whole, or the program cannot say (`known(program)` is None). `finished` False (a suggestion cut
    by its time budget) leaves a word at the very end unjudged: it may be half written.
    """
    found = _unknown_word(before, text, finished, known)
    return found[0]["word"] if found else None


def fit_subcommand(
    before: str,
    text: str,
    finished: bool = True,
    known: Callable[[str], frozenset[str] | None] = listed_subcommands,
) -> str | None:
    """Suggestion `text` as it may be shown after `before`: unchanged when its subcommand is one its
    program has; cut after the longest one that starts the word at a `-`, `_` or `.` (`git st` +
    `atus-remote` -> `atus`: `git status`); None when none does (`git st` + `ep`).
    """
    found = _unknown_word(before, text, finished, known)
    if found is None:
        return text
    m, names = found
    bad = m["word"]
    fits = [n for n in names if bad.startswith(n) and len(n) < len(bad) and bad[len(n)] in "-_."]
    cut = m.start("word") + max(map(len, fits), default=0)
    return text[: cut - len(before)] if fits and cut > len(before) else None


MAX_WORD_CHOICES = 16
"""A typed part of a subcommand that more of the program's names start with is not completed from
the list: the model's own choice among so many would be a guess."""


def word_choices(
    before: str, known: Callable[[str], frozenset[str] | None] = listed_subcommands
) -> tuple[str, list[str]] | None:
    """When the cursor ends the typed part of a program's subcommand (`git st`; not a whole name
    such as `git show`): that part and the program's names that start with it and are longer (`["stage", "stash", "status", ...]`, at
    most MAX_WORD_CHOICES, sorted); else None (pure but for the listing)."""
    start = before.rfind("\n") + 1
    for m in _subcommand_pattern(tuple(LISTERS)).finditer(before, start):
        if m.end("word") != len(before) or (m["opts"] and m["prog"] != "git"):
            continue
        names = known(m["prog"])
        typed = m["word"]
        if names is None or typed in names:
            return None  # a whole name already (`git show`, not `git show-ref`)
        choices = sorted(n for n in names if n.startswith(typed) and len(n) > len(typed))
        if not choices or len(choices) > MAX_WORD_CHOICES:
            return None
        return typed, choices
    return None
