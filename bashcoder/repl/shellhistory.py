"""Reading the user's shell history file: bash's plain and timestamped formats, zsh's extended one.

Read only: nothing here writes a file, logs an entry or sends one anywhere;
the entries stay in memory for suggestions and the model's prompt. Formats:

- bash, one command a line; with `HISTTIMEFORMAT` each entry follows a
  `#1700000000` line, and an entry that spans lines (`shopt -s lithist`)
  runs to the next such line, kept whole;
- zsh's `EXTENDED_HISTORY`: `: <start>:<elapsed>;<command>`, a multi-line
  command continued by a backslash at the end of each of its lines; zsh's
  "metafied" bytes (0x83 then the byte xor 32) are restored;
- fish's YAML-like file (`- cmd: ls` then `  when: <time>`, `  paths:`),
  its `\\n` and `\\\\` escapes undone. Fish syntax is not bash, but most
  command lines are the same in both.

Entries that start with a space are dropped, as bash does with
`HISTCONTROL=ignorespace`. Bytes that are not UTF-8 survive as lone
surrogates (`rawtext`), so an accepted entry runs byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path

from bashcoder.repl.rawtext import decode

MAX_ENTRIES = 20_000
"""Newest entries kept; older ones are dropped (a long history file is read once, at the first need)."""
MAX_BYTES = 8 << 20
"""Only the last 8 MiB of a larger file are read."""

_BASH_TIME = re.compile(rb"^#\d{9,11}$")
_ZSH_EXTENDED = re.compile(rb"^: \d+:\d+;")
_ZSH_META = 0x83


def unmetafy(data: bytes) -> bytes:
    """zsh's history bytes as written: 0x83 followed by b stands for b ^ 0x20."""
    if _ZSH_META not in data:
        return data
    out = bytearray()
    i = 0
    while i < len(data):
        if data[i] == _ZSH_META and i + 1 < len(data):
            out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def _ends_in_backslash(line: bytes) -> bool:
    return (len(line) - len(line.rstrip(b"\\"))) % 2 == 1


_FISH_CMD = b"- cmd: "


def parse_fish(lines: list[bytes]) -> list[str]:
    """The commands of fish's history lines, oldest first (`- cmd: ...`; other keys skipped)."""
    out: list[str] = []
    for line in lines:
        if line.startswith(_FISH_CMD):
            raw = decode(line[len(_FISH_CMD) :].rstrip(b"\r"))
            text = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), raw)
            if text.strip() and not text.startswith(" "):
                out.append(text)
    return out


def parse_history(data: bytes, zsh: bool | None = None) -> list[str]:
    """The entries of a history file's bytes, oldest first; `zsh` None = tell from the lines."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    head = lines[:50]
    if any(line.startswith(_FISH_CMD) for line in head) and all(
        line.startswith((b"- cmd: ", b"  ")) or not line.strip() for line in head
    ):
        return parse_fish(lines)
    if zsh is None:
        zsh = any(_ZSH_EXTENDED.match(line) for line in lines[:50])
    if zsh:
        lines = unmetafy(b"\n".join(lines)).split(b"\n")
    entries: list[list[bytes]] = []
    timestamped = False  # bash: the open entry runs until the next `#<time>` line
    continued = False  # zsh: the open entry's last line ended in a backslash
    for line in lines:
        line = line.rstrip(b"\r")
        if _BASH_TIME.match(line):
            entries.append([])
            timestamped, continued = True, False
        elif zsh and continued:
            entries[-1][-1] = entries[-1][-1][:-1]
            entries[-1].append(line)
            continued = _ends_in_backslash(line)
        elif zsh and _ZSH_EXTENDED.match(line):
            entries.append([line.split(b";", 1)[1]])
            continued = _ends_in_backslash(line)
        elif timestamped and entries:
            entries[-1].append(line)
        else:
            entries.append([line])
            continued = zsh and _ends_in_backslash(line)
    texts = (decode(b"\n".join(parts)) for parts in entries)
    return [t for t in texts if t.strip() and not t.startswith(" ")]


def read_history(path: Path) -> list[str]:
    """The newest MAX_ENTRIES entries of the history file at `path`, oldest first; [] if it cannot be read."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - MAX_BYTES))
            data = fh.read()
    except OSError:
        return []
    if size > MAX_BYTES and b"\n" in data:
        data = data[data.index(b"\n") + 1 :]  # the first line was cut in two
    zsh = True if "zsh" in path.name or path.name == ".zhistory" else None
    return parse_history(data, zsh)[-MAX_ENTRIES:]
