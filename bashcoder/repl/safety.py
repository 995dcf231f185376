"""Does a command destroy something that cannot be undone? Pure functions of its text.

The gate before the REPL runs a command. It reads the input as bash will
(two readers: tree-sitter-bash for the structure where it parses, the hand
lexer in `bashlex` always; findings of either count) and follows every
script it can see into the command that runs it: `if`/`for` bodies,
pipelines, `$(...)`, `<(...)`, backticks, `bash -c '...'`, `eval`, `su -c`,
a shell reading a here-document, a here-string or a piped `echo`,
`ssh host '...'`, `xargs` fed by a visible `echo`, an alias defined earlier
in the same input, and wrappers (`sudo`, `pkexec`, `busybox`, `env -S`,
`nice` ...). Words are read after quote removal, `$'...'` decoding and brace
expansion. It flags (`gate_rules.py`):

- `rm -r` on `/`, `~` (any spelling: `$HOME`, `${HOME}`, `~/`, `/*`) or a
  top-level system directory, and `rm -r *` after `cd /` or `cd ~`;
- `mkfs*`, `mke2fs`, `mkswap`, `wipefs -a`;
- `dd of=` a disk device, and `>`, `tee`, `cp` or `shred` onto one;
- fork bombs (`:(){ :|:& };:` and renamed variants);
- `chmod -R`, `chown -R`, `chgrp -R` on `/` or a top-level system directory;
- `find /` with `-delete`;
- `curl`/`wget` piped into a shell, or fed to one via `<(...)` or `-c "$(...)"`;
- `shutdown`, `reboot`, `halt`, `poweroff`, `init 0|6`, `systemctl reboot` ...

Text that only mentions these (`echo rm -rf /`, comments, quoted
arguments, here-documents read by `cat`) is not flagged. It is a seat belt
against accidents, not a sandbox: it cannot see text made at run time
(`BLIND_SPOTS`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from functools import partial

from bashcoder.repl import treesit
from bashcoder.repl.bashlex import Command, Word, code_only, decode_ansi_c, parse
from bashcoder.repl.gate_rules import (
    DOWNLOADERS,
    SHELLS,
    SOURCE,
    Danger,
    cd_to_danger,
    command_core,
    command_dangers,
    normalise_path,
    options_and_operands,
    redirection_dangers,
)

__all__ = ["BLIND_SPOTS", "Danger", "code_only", "dangers", "is_destructive", "normalise_path", "parse"]

MAX_DEPTH = 6
BLIND_SPOTS = (
    'text made when the command runs: base64 -d | sh, rm -rf "$dir", $(cat cmd.txt)',
    "scripts in files (bash script.sh, source ~/.bashrc) and what a download returns",
    "programs that delete on their own terms (a Makefile's clean, git clean -fdx, docker system prune)",
)
"""What the gate cannot see; `:help` lists these."""

_FORK_BOMB = re.compile(
    r"(?:function\s+)?(?P<n>[^\s(){}|&;<>'\"]+)\s*(?:\(\s*\))?\s*\{\s*(?P=n)\s*\|\s*&?\s*(?P=n)\s*&\s*;?\s*\}"
    r"\s*;?\s*(?P=n)(?![^\s;&|)])"
)
_STDIN_PATHS = {"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"}
# ssh options that take a value (`ssh -p 22 -i key host cmd`)
_SSH_VALUES = set("BbcDEeFIiJLlmOopQRSWw")


def dangers(text: str) -> list[Danger]:
    """Every reason `text` is destructive (empty when it looks safe), without duplicates."""
    found: list[Danger] = []
    for d in _scan(text, 0):
        if d not in found:
            found.append(d)
    return found


def is_destructive(text: str) -> bool:
    """True when `dangers(text)` finds anything."""
    return bool(dangers(text))


def _scan(text: str, depth: int, stdin: str | None = None) -> Iterator[Danger]:
    """The dangers of the script `text`; `stdin` is what its first command reads, when visible."""
    if depth > MAX_DEPTH or not text.strip():
        return
    bomb = _FORK_BOMB.search(code_only(text))
    if bomb:
        yield Danger(
            "fork-bomb", f"a fork bomb: {bomb.group('n')} starts copies of itself until the machine hangs"
        )
    yield from _walk(parse(text), depth, stdin)
    structured = treesit.read(text)
    if structured is not None:
        yield from _walk(structured, depth, stdin)


def _walk(commands: list[Command], depth: int, stdin: str | None) -> Iterator[Danger]:
    in_danger_dir = False
    piped_from_download = False
    aliases: dict[str, str] = {}
    piped: str | None = stdin  # what the previous command pipes into this one, when visible
    for idx, cmd in enumerate(commands):
        prev_pipe = idx > 0 and commands[idx - 1].pipe_next
        reads = cmd.stdin if cmd.stdin is not None else (piped if prev_pipe or idx == 0 else None)
        for word in cmd.words + [w for _, w in cmd.redirs]:
            for sub in word.subs:
                yield from _scan(sub, depth + 1)
        yield from redirection_dangers(cmd)
        piped = None
        if cmd.words and cmd.words[0].text in aliases:
            # aliases expand before anything else; the alias's text is read as written
            rest = " ".join(shlex.quote(w.text) for w in cmd.words[1:])
            yield from _scan(aliases[cmd.words[0].text] + " " + rest, depth + 1, reads)
            continue
        core = command_core(cmd.words, reads)
        if core is None:
            piped_from_download = piped_from_download and cmd.pipe_next
            continue
        name, args = core
        cd = cd_to_danger(name, args)
        if cd is not None:
            in_danger_dir = cd
        if piped_from_download and name in SHELLS | SOURCE:
            yield Danger("pipe-shell", f"runs whatever the download returns with {name}, unread")
        downloading = name in DOWNLOADERS
        piped_from_download = cmd.pipe_next and (downloading or (piped_from_download and prev_pipe))
        if cmd.pipe_next:
            piped = output_of(name, args, reads)
        if name == "alias":
            aliases.update(_alias_definitions(args))
        yield from command_dangers(name, args, in_danger_dir)
        yield from _runs_scripts(name, args, reads, depth)


def _alias_definitions(args: list[Word]) -> dict[str, str]:
    return {name: value for name, eq, value in (a.text.partition("=") for a in args) if eq and name}


def _runs_scripts(name: str, args: list[Word], stdin: str | None, depth: int) -> Iterator[Danger]:
    """Dangers of the scripts a shell, `eval`, `su -c` or `ssh` is given to run."""
    if name in SHELLS | SOURCE | {"eval"}:
        yield from _shell_arguments(name, args, stdin, depth)
    elif name in ("su", "runuser") and "-c" in (texts := [w.text for w in args]):
        i = texts.index("-c")
        if i + 1 < len(args):
            yield from _scan(args[i + 1].text, depth + 1, stdin)
    elif name == "ssh":
        yield from _remote(args, stdin, depth)


def _script_flag(texts: list[str]) -> int | None:
    """Index of the `-c` (or a cluster holding it, `-ec`) of a shell's arguments."""
    for i, t in enumerate(texts):
        if t == "--":
            return None
        if t == "-c" or re.fullmatch(r"-[a-z]*c[a-z]*", t):
            return i
        if not t.startswith(("-", "+")):
            return None
    return None


def _shell_arguments(name: str, args: list[Word], stdin: str | None, depth: int) -> Iterator[Danger]:
    """`bash -c STRING`, `eval ...`, `bash <<'EOF'`, `bash <(curl ...)`, `sh -c "$(wget ...)"`."""
    texts = [w.text for w in args]
    script: str | None = None
    flag = _script_flag(texts)
    if name == "eval":
        script = " ".join(texts)
    elif flag is not None and flag + 1 < len(texts):
        script = texts[flag + 1]
    if script is not None:
        yield from _scan(script, depth + 1, stdin)
    elif stdin is not None and _reads_stdin(name, texts):
        yield from _scan(stdin, depth + 1)
    fed = script is not None or name in SOURCE | {"eval"} or any(w.text.startswith("<(") for w in args)
    if fed:
        for w in args:
            if any(_names(sub) & DOWNLOADERS for sub in w.subs):
                yield Danger("pipe-shell", f"runs whatever the download returns with {name}, unread")
                return


def _reads_stdin(name: str, texts: list[str]) -> bool:
    """Does this shell (or `source`) take its script from standard input?"""
    opts, operands = options_and_operands([Word(t) for t in texts])
    if name in SOURCE:
        return operands[:1] != [] and operands[0] in _STDIN_PATHS
    return not operands or operands[0] in _STDIN_PATHS or any(o.startswith("-") and "s" in o for o in opts)


def _names(script: str) -> set[str]:
    return {core[0] for cmd in parse(script) if (core := command_core(cmd.words))}


def _remote(args: list[Word], stdin: str | None, depth: int) -> Iterator[Danger]:
    """`ssh [options] host command...`: the remote shell runs the words after the host, joined."""
    i = 0
    while i < len(args):
        t = args[i].text
        if t == "--":
            i += 1
            break
        if not t.startswith("-") or t == "-":
            break
        i += 2 if len(t) == 2 and t[1] in _SSH_VALUES else 1
    if i >= len(args):
        return
    host = args[i].text
    command = " ".join(w.text for w in args[i + 1 :])
    script, script_stdin = (command, stdin) if command.strip() else (stdin or "", None)
    for d in _scan(script, depth + 1, script_stdin):
        yield Danger(d.rule, f"on {host}: {d.reason}")


def output_of(name: str, args: list[Word], stdin: str | None) -> str | None:
    """What `name args` writes to its output, when that is plain to see (`echo`, `printf`, `cat <<EOF`)."""
    texts = [w.text for w in args]
    if name == "echo":
        flags = ""
        while texts and re.fullmatch(r"-[neE]+", texts[0]):
            flags += texts.pop(0)
        line = " ".join(texts)
        return (decode_ansi_c(line) if "e" in flags else line) + ("" if "n" in flags else "\n")
    if name == "printf" and texts:
        return _printf(texts[0], texts[1:])
    if name in ("cat", "tee") and stdin is not None:
        _, operands = options_and_operands(args)
        return stdin if name == "tee" or not operands or operands == ["-"] else None
    return None


def _printf(fmt: str, args: list[str]) -> str:
    """printf's output, for the conversions that matter here (%s %b %d ...), format reused for extra args."""
    template = decode_ansi_c(fmt)
    out: list[str] = []
    queue = list(args)
    while True:
        used = [0]
        out.append(_PRINTF_SPEC.sub(partial(_printf_field, args=queue, used=used), template))
        queue = queue[used[0] :]
        if not queue or used[0] == 0 or len(out) > 64:
            return "".join(out)


_PRINTF_SPEC = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?([sbdiqcxXoufgeE%])")


def _printf_field(m: re.Match[str], args: list[str], used: list[int]) -> str:
    """One `%x` of printf's format filled from `args` (`used[0]` of them are taken)."""
    if m.group(1) == "%":
        return "%"
    value = args[used[0]] if used[0] < len(args) else ""
    used[0] += 1
    return decode_ansi_c(value) if m.group(1) == "b" else value
