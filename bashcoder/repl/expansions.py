"""Two expansions bash makes of a word before running it: ANSI-C quoting and brace expansion.

`decode_ansi_c("\\x2f")` is `/`, as `$'\\x2f'` is in bash; `expand_braces("/{etc,usr}")`
is `["/etc", "/usr"]`. Pure functions, called by `bashlex` as it reads a word.
"""

from __future__ import annotations

import re

MAX_BRACE_WORDS = 256
"""Brace expansion stops growing a word past this many results (`{1..100000}` is not spelled out)."""

_ANSI_C = re.compile(
    r"\\(?:(?P<simple>[abeEfnrtv\\'\"?])|(?P<oct>[0-7]{1,3})|x(?P<hex>[0-9A-Fa-f]{1,2})"
    r"|u(?P<u4>[0-9A-Fa-f]{1,4})|U(?P<u8>[0-9A-Fa-f]{1,8})|c(?P<ctl>.))",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
                   "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}  # fmt: skip


def _ansi_c_char(m: re.Match[str]) -> str:
    if m.group("simple"):
        return _SIMPLE_ESCAPES[m.group("simple")]
    if m.group("oct"):
        return chr(int(m.group("oct"), 8) & 0xFF)
    if m.group("ctl"):
        return chr(ord(m.group("ctl")) & 0x1F)
    code = int(m.group("hex") or m.group("u4") or m.group("u8"), 16)
    return chr(code) if code < 0x110000 else "\ufffd"


def decode_ansi_c(body: str) -> str:
    """The text of a `$'...'` string's body, escapes decoded as bash does (`\\x2f` -> `/`)."""
    return _ANSI_C.sub(_ansi_c_char, body)


_SEQUENCE = re.compile(r"^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?$")


def _brace_alternatives(word: str, start: int) -> tuple[int, list[str]] | None:
    """(index of the closing brace, the alternatives) for a `{` at `start` that bash expands, else None."""
    depth, parts, begin = 0, [], start + 1
    for j in range(start, len(word)):
        c = word[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                body = word[start + 1 : j]
                if parts:
                    return j, [*parts, word[begin:j]]
                seq = _sequence(body)
                return (j, seq) if seq is not None else None
        elif c == "," and depth == 1:
            parts.append(word[begin:j])
            begin = j + 1
    return None


def _sequence(body: str) -> list[str] | None:
    """`1..5`, `a..e`, `01..10..3` spelled out (at most MAX_BRACE_WORDS), else None."""
    m = _SEQUENCE.match(body)
    if m is None:
        return None
    first, last, step_text = m.groups()
    step = abs(int(step_text)) if step_text and int(step_text) != 0 else 1
    if first.isalpha() != last.isalpha():
        return None
    if first.isalpha():
        a, b = ord(first), ord(last)
        values = range(a, b + (1 if b >= a else -1), step if b >= a else -step)
        return [chr(v) for v in values[:MAX_BRACE_WORDS]]
    a, b = int(first), int(last)
    width = (
        max(len(first), len(last))
        if first.lstrip("-").startswith("0") or last.lstrip("-").startswith("0")
        else 0
    )
    values = range(a, b + (1 if b >= a else -1), step if b >= a else -step)
    return [str(v).zfill(width) for v in values[:MAX_BRACE_WORDS]]


def expand_braces(word: str) -> list[str]:
    """The words bash makes of `word` by brace expansion (`/{etc,usr}` -> `/etc`, `/usr`), in its order."""
    i = word.find("{")
    while i >= 0:
        found = _brace_alternatives(word, i)
        if found is not None:
            end, alternatives = found
            out: list[str] = []
            for alt in alternatives:
                out += [word[:i] + rest for rest in expand_braces(alt + word[end + 1 :])]
                if len(out) >= MAX_BRACE_WORDS:
                    break
            return out[:MAX_BRACE_WORDS]
        i = word.find("{", i + 1)
    return [word]
