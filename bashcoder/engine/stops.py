"""Bash stop rules and completion post-processing, as pure functions of text.

- line mode: the completion ends at the end of its first non-empty line;
- block mode: it ends at a blank line, at a line indented less than the
  cursor's line, or at <|endoftext|> (handled by the generator);
- auto: block on an empty line (after Enter; inside code only under an
  opener or a comment) and at the end of a line that opens a compound command
  (`for f in *; do`), line otherwise (mid-line, or text after the cursor on
  its line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bashcoder.engine.syntax import mask_literals

MODES = ("line", "block", "auto")
_OPENERS = re.compile(r"(\bthen|\bdo|\belse|\bin|\{|\(\)\s*\{?|\|\||&&|\\)\s*$")
_LINE_OPENS = re.compile(
    r"(\b(for|while|until|select)\b(?:(?!\bdo\b).)*;\s*do|\b(if|elif)\b(?:(?!\bthen\b).)*;\s*then|^\s*(then|else)"
    r"|\bcase\s.*\sin|\(\)\s*\{|^\s*(function\s+\S+\s*)?\{|(\|\||&&)\s*\{)\s*$"
)
"""A line being typed that, when the cursor is at its end, has just opened a compound's body (judged
with its strings and comments blanked). Stricter than _OPENERS, which judges finished lines: a line
still being typed may end in `do` on its way to `done` or `docker` (`cd build; do`), in `in` with a
`for` still missing its list, in `{` inside `${` or `echo {a,b}`, in `; do` of a one-line loop
whose `do` came already (`for f in *; do echo $f; do` on its way to `done`). (`do` alone on a line under a
`for` is left out: the same two letters start `done`.)"""
CLOSING_CHARS = frozenset("\"')]}`")
CLOSERS = {"if": "fi", "for": "done", "while": "done", "until": "done", "select": "done", "case": "esac"}


def indent_of(line: str) -> int:
    """Number of leading whitespace characters (a tab counts as one, as bash does not care)."""
    return len(line) - len(line.lstrip(" \t"))


@dataclass(frozen=True)
class StopRule:
    """When a completion at a given cursor is finished."""

    mode: str
    """'line', 'block' (resolve 'auto' with `choose_mode` first) or 'script' (only loops end it)."""
    cursor_indent: int = 0
    """Indentation of the line the cursor is on (block mode ends below it)."""
    starts_at_line_start: bool = True
    """Whether the cursor sits at the start of a line (after only whitespace)."""

    def cut(self, text: str) -> int | None:
        """Index at which `text` must be cut because it is complete (or looping), or None to go on."""
        if self.mode == "script":  # a whole script ends at end of text or the token budget
            done = None
        elif self.mode == "line":
            done = _line_cut(text)
        else:
            done = _block_cut(text, self.cursor_indent, self.starts_at_line_start)
        looping = repetition_cut(text)
        return done if looping is None else looping if done is None else min(done, looping)


REPEATS = 4
"""A unit written this many times in a row at the end of a completion is a loop."""
MAX_UNIT = 8
WORD_REPEATS = 3
"""Longer units (words with their blank, whole lines) loop sooner: `--no-deps --no-deps --no-deps`."""
MAX_WORD_UNIT = 200


def repetition_cut(text: str, repeats: int = REPEATS, max_unit: int = MAX_UNIT) -> int | None:
    """Where to cut a completion that has fallen into a loop (`-e -e -e -e`, `/lib/lib/lib/lib`), pure.

    A small model that is unsure repeats itself until the token budget runs
    out: the suggestion is junk and every step of it costs latency. A unit of
    2-`max_unit` characters with two different characters, one of them a
    letter or digit, written `repeats` times in a row ends the completion after
    its first copy; so does a longer unit (up to MAX_WORD_UNIT characters) that
    holds a blank or a newline, written WORD_REPEATS times (`--parallel 10
    --parallel 10 --parallel 10 `, or the same comment line three times).
    Bash's own runs stay: `XXXXXXXX` (mktemp), `==========`, indentation,
    `../../../`, and blank-free patterns such as an IP address regex's octet
    group three times. Measured on the training corpus, the longer rule would
    cut 0.02% of lines within a line, nearly all of them number tables, and 1 in
    100,000 lines as whole lines (`cd .. || return 1` three times).
    """
    sizes = [(size, repeats) for size in range(2, max_unit + 1)]
    sizes += [(size, WORD_REPEATS) for size in range(max_unit + 1, MAX_WORD_UNIT + 1)]
    for size, times in sizes:
        span = size * times
        if len(text) < span:
            if times == repeats:
                continue
            break
        tail = text[-span:]
        unit = tail[:size]
        if tail != unit * times or len(set(unit)) < 2 or not any(ch.isalnum() for ch in unit):
            continue
        if times == WORD_REPEATS and size > max_unit and not any(ch in " \t\n" for ch in unit):
            continue
        start = len(text) - span
        while start > 0 and text[start - 1] == text[start - 1 + size]:
            start -= 1
        return start + size
    return None


def _line_cut(text: str) -> int | None:
    # Skip newlines at the very start: at the end of a finished line the user wants the next one.
    start = len(text) - len(text.lstrip("\n"))
    nl = text.find("\n", start)
    return nl if nl >= 0 else None


def _block_cut(text: str, cursor_indent: int, at_line_start: bool) -> int | None:
    blank = re.search(r"\n[ \t]*\n", text)
    cut = blank.start() if blank else None
    # The first line continues the cursor's line; dedents are judged on the lines after it.
    pos = text.find("\n")
    while pos >= 0 and (cut is None or pos < cut):
        nxt = text.find("\n", pos + 1)
        if nxt < 0:
            break  # the line after pos is still being written
        line = text[pos + 1 : nxt]
        if line.strip() and indent_of(line) < cursor_indent:
            return pos if cut is None else min(cut, pos)
        pos = nxt
    return cut


def cursor_context(prefix: str) -> tuple[str, str]:
    """(text of the cursor's line before the cursor, the previous non-empty line)."""
    head, _, current = prefix.rpartition("\n")
    previous = next((ln for ln in reversed(head.split("\n")) if ln.strip()), "")
    return current, previous


def choose_mode(prefix: str, requested: str = "auto", suffix: str = "") -> str:
    """Resolve 'auto' to 'line' or 'block' from the text around the cursor (pure).

    A block where the user is about to write lines: on an empty line at the end of what is written
    (under code too) and at the end of a line that opens a compound's body (Copilot asks for several
    lines at a block's start too). Measured on bench/lsp_latency.py's replay (the shipped tiny,
    2-core AMD EPYC with AVX-512, sampled at 0.2): 18.5 -> 32.3 characters shown per suggestion,
    4.0 -> 4.2 of them right, the share right to their end 20.2% -> 17.0%, p95 under the 100 ms
    budget 45 -> 50 ms. An empty line with code right after it keeps the earlier rule (a block
    under an opener or a comment line, else a line); mid-line, or with text after the cursor on its
    line, a line.
    """
    if requested in ("line", "block"):
        return requested
    rest, _, after = suffix.partition("\n")
    if rest.strip():
        return "line"
    current, previous = cursor_context(prefix)
    if current.strip():
        return "block" if opens_body(current) else "line"
    if after.split("\n", 1)[0].strip():
        # An empty line inside code: a line fits between, and the rerank (engine/rerank.py, line
        # mode only) picks the one that leads into the next line; a block only under an opener or
        # a comment, as before.
        prev = previous.strip()
        return "block" if _OPENERS.search(prev) or prev.startswith("#") else "line"
    return "block"


def opens_body(line: str) -> bool:
    """Whether `line`, typed up to the cursor, ends by opening a compound's body (`for f in *; do`)."""
    return bool(_LINE_OPENS.search(mask_literals(line)))


def stop_rule_for(prefix: str, mode: str = "auto", suffix: str = "") -> StopRule:
    """The stop rule for a completion at the end of `prefix` (`suffix`: the text after the cursor)."""
    current, previous = cursor_context(prefix)
    at_start = not current.strip()
    indent = indent_of(current)
    if at_start and _OPENERS.search(previous.strip()):
        # The body of a compound sits deeper than its opener; its closer ends the block.
        indent = max(indent, indent_of(previous) + 1)
    elif not at_start and opens_body(current):
        indent += 1  # the same, with the cursor still on the opener's line
    return StopRule(choose_mode(prefix, mode, suffix), indent, at_start)


def trim_suffix_overlap(completion: str, suffix: str, min_overlap: int = 3) -> str:
    """Drop the end of `completion` that repeats the start of `suffix`.

    Also drops a completion whose lines already follow the cursor verbatim.
    """
    if not completion or not suffix:
        return completion
    stripped = suffix.lstrip()
    # Longest k such that completion ends with suffix[:k]. Short overlaps count
    # only when they are closing characters an editor auto-inserted (`"`, `)`).
    for k in range(min(len(completion), len(suffix)), 0, -1):
        overlap = suffix[:k]
        if completion.endswith(overlap) and (k >= min_overlap or all(ch in CLOSING_CHARS for ch in overlap)):
            return completion[:-k]
    first = completion.strip()
    if first and stripped.startswith(first) and len(first) >= min_overlap:
        return ""
    return completion


def close_compounds(prefix: str, completion: str, suffix: str) -> str:
    """Append `fi`/`done`/`esac`/`}` the completion opened, unless the suffix closes them.

    Words inside strings, comments and here-document bodies open nothing
    (`echo "run it again if it fails"`), and a closer is indented with its
    opener's own characters (a tab stays a tab).
    """
    text = prefix + completion
    need = _unclosed(mask_literals(text), text)
    if not need:
        return completion
    have = _words(mask_literals(suffix))
    additions: list[str] = []
    for word, indent in reversed(need):
        if have.get(word, 0) > 0:
            have[word] -= 1
            continue
        additions.append(indent + word)
    if not additions:
        return completion
    sep = "" if completion.endswith("\n") else "\n"
    return completion + sep + "\n".join(additions)


_WORD = re.compile(r"(?<![\w$-])(if|fi|for|while|until|select|done|case|esac)(?![\w-])|(\{)\s*$|^\s*(\})")


def _unclosed(masked: str, original: str) -> list[tuple[str, str]]:
    """Stack of closers still owed by the code in `masked` (literals blanked), with the opener
    line's own leading whitespace taken from `original` (the same lines, unmasked)."""
    stack: list[tuple[str, str]] = []
    for line, raw in zip(masked.split("\n"), original.split("\n"), strict=True):
        lead = raw[: indent_of(raw)]
        for m in _WORD.finditer(line):
            word = m.group(1) or m.group(2) or m.group(3)
            if word in CLOSERS:
                stack.append((CLOSERS[word], lead))
            elif word == "{":
                stack.append(("}", lead))
            elif stack and stack[-1][0] == word:
                stack.pop()
    return stack


def _words(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for word, _ in _unclosed_closers(text):
        counts[word] = counts.get(word, 0) + 1
    return counts


def _unclosed_closers(text: str) -> list[tuple[str, int]]:
    """Closers in `text` that have no opener before them in `text`."""
    extra: list[tuple[str, int]] = []
    depth: list[str] = []
    for raw in text.split("\n"):
        for m in _WORD.finditer(raw):
            word = m.group(1) or m.group(2) or m.group(3)
            if word in CLOSERS:
                depth.append(CLOSERS[word])
            elif word == "{":
                depth.append("}")
            elif depth and depth[-1] == word:
                depth.pop()
            elif word in ("fi", "done", "esac", "}"):
                extra.append((word, indent_of(raw)))
    return extra
