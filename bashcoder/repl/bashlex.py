"""The gate's hand-written bash reader: simple commands, their words, redirections and here-documents.

Pure functions of text, forgiving of unfinished input (an open quote reads to
the end). A `Word` is what bash would pass after quote removal, ANSI-C
decoding (`$'\\x2f'` is `/`) and brace expansion (`/{etc,usr}` is two words);
substitutions stay as written and their scripts are listed for the gate to
read in turn. `treesit.py` reads the same text with tree-sitter-bash; the gate
uses both. This module knows nothing of what is dangerous.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bashcoder.repl.expansions import decode_ansi_c, expand_braces


@dataclass
class Word:
    """One word of a command."""

    text: str
    """The word with quotes and escapes removed; substitutions left as written."""
    subs: list[str] = field(default_factory=list)
    """Scripts inside `$(...)`, backticks, `<(...)` and `>(...)` in this word."""


@dataclass
class Command:
    """A simple command: its words, redirections, and how it connects to the next one."""

    words: list[Word] = field(default_factory=list)
    """The command's words in order, brace expansion applied."""
    redirs: list[tuple[str, Word]] = field(default_factory=list)
    """(operator, target) pairs, e.g. ('>', Word('/dev/sda')) or ('2>', ...)."""
    pipe_next: bool = False
    """Its output is piped into the next command."""
    stdin: str | None = None
    """Text visible on its standard input: a here-document's body or a here-string (None: unknown)."""


_SEPARATORS = (";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|", "(", ")")
_REDIR = re.compile(r"(\d*|&)(>>|>\||>&|<<<|<<-|<<|<>|<&|>|<)")
META = frozenset(" \t\n;&|()<>")
_QUOTING = frozenset("'\"\\")

# Braces, commas written quoted or inside `${...}` do not expand: they travel as these until expansion is over.
_PROTECT = str.maketrans({"{": "\ue000", ",": "\ue001", "}": "\ue002"})
_RESTORE = str.maketrans({"\ue000": "{", "\ue001": ",", "\ue002": "}"})


def _protected(text: str) -> str:
    return text.translate(_PROTECT)


# ---- quoting ---------------------------------------------------------------


def balanced(text: str, i: int, open_ch: str = "(", close_ch: str = ")") -> int:
    """Index just past the bracket matching the one at `i`, skipping quoted text."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == '"':
            i = end_of_double(text, i + 1)
            continue
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def end_of_double(text: str, i: int) -> int:
    """Index just past the closing double quote, for `i` just after the opening one."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c == "$" and text[i + 1 : i + 2] == "(":
            i = balanced(text, i + 1)
        elif c == "`":
            j = text.find("`", i + 1)
            i = n if j < 0 else j + 1
        else:
            i += 1
    return n


def _end_of_ansi_c(text: str, i: int) -> int:
    """Index of the closing quote of a `$'...'` string whose body starts at `i` (len(text) if none)."""
    n = len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
        elif text[i] == "'":
            return i
        else:
            i += 1
    return n


# ---- words -----------------------------------------------------------------


def _read_pattern(text: str, i: int) -> tuple[str, list[str], int]:
    """The word at `i` as a brace pattern (quoted braces protected), its substitutions, the index after it."""
    buf: list[str] = []
    subs: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c in META:
            break
        if c == "\\":
            if text[i + 1 : i + 2] != "\n":
                buf.append(_protected(text[i + 1 : i + 2]))
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            buf.append(_protected(text[i + 1 : j]))
            i = j + 1
        elif c == "$" and text[i + 1 : i + 2] == "'":
            j = _end_of_ansi_c(text, i + 2)
            buf.append(_protected(decode_ansi_c(text[i + 2 : j])))
            i = j + 1
        elif c == '"' or (c == "$" and text[i + 1 : i + 2] == '"'):  # $"..." is a translated "..."
            start = i + 1 if c == '"' else i + 2
            end = end_of_double(text, start)
            inner = text[start : end - 1 if text[end - 1 : end] == '"' and end > start else end]
            inner_word = read_double_content(inner)
            buf.append(_protected(inner_word.text))
            subs += inner_word.subs
            i = end
        elif c == "$" and text[i + 1 : i + 3] == "((":
            end = balanced(text, i + 1)
            buf.append(_protected(text[i:end]))
            i = end
        elif c == "$" and text[i + 1 : i + 2] == "(":
            end = balanced(text, i + 1)
            subs.append(text[i + 2 : end - 1])
            buf.append(_protected(text[i:end]))
            i = end
        elif c == "$" and text[i + 1 : i + 2] == "{":
            end = balanced(text, i + 1, "{", "}")
            buf.append(_protected(text[i:end]))
            i = end
        elif c == "`":
            j = text.find("`", i + 1)
            j = n if j < 0 else j
            subs.append(text[i + 1 : j])
            buf.append(_protected(text[i : j + 1]))
            i = j + 1
        else:
            buf.append(c)
            i += 1
    return "".join(buf), subs, i


def read_word(text: str, i: int) -> tuple[Word, int]:
    """The word starting at `i` (no brace expansion) and the index just after it."""
    pattern, subs, end = _read_pattern(text, i)
    return Word(pattern.translate(_RESTORE), subs), end


def read_words(text: str, i: int) -> tuple[list[Word], int]:
    """The word starting at `i`, brace-expanded into the words bash passes, and the index after it."""
    pattern, subs, end = _read_pattern(text, i)
    texts = [pattern] if _ASSIGNMENT.match(pattern) else expand_braces(pattern)
    words = [Word(t.translate(_RESTORE)) for t in texts]
    words[0].subs = subs
    return words, end


_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")


def read_double_content(inner: str) -> Word:
    """The text and substitutions inside a double-quoted string (or an unquoted here-document body)."""
    buf: list[str] = []
    subs: list[str] = []
    i, n = 0, len(inner)
    while i < n:
        c = inner[i]
        if c == "\\" and inner[i + 1 : i + 2] in ('"', "\\", "$", "`"):
            buf.append(inner[i + 1])
            i += 2
        elif c == "$" and inner[i + 1 : i + 3] == "((":
            end = balanced(inner, i + 1)
            buf.append(inner[i:end])
            i = end
        elif c == "$" and inner[i + 1 : i + 2] == "(":
            end = balanced(inner, i + 1)
            subs.append(inner[i + 2 : end - 1])
            buf.append(inner[i:end])
            i = end
        elif c == "`":
            j = inner.find("`", i + 1)
            j = n if j < 0 else j
            subs.append(inner[i + 1 : j])
            buf.append(inner[i : j + 1])
            i = j + 1
        else:
            buf.append(c)
            i += 1
    return Word("".join(buf), subs)


# ---- commands --------------------------------------------------------------


@dataclass
class _Heredoc:
    delimiter: str
    strip_tabs: bool
    quoted: bool
    """`<<'EOF'`, `<<"EOF"` or `<<\\EOF`: the body is taken as written, nothing in it expands."""
    command: Command
    target: Word


def _read_heredoc_body(text: str, i: int, doc: _Heredoc) -> int:
    """Give `doc.command` the body that starts at `i`; returns the index after its delimiter line."""
    n = len(text)
    lines: list[str] = []
    while i < n:
        j = text.find("\n", i)
        line = text[i : n if j < 0 else j]
        i = n if j < 0 else j + 1
        if doc.strip_tabs:
            line = line.lstrip("\t")
        if line == doc.delimiter:
            break
        lines.append(line)
    body = "".join(line + "\n" for line in lines)
    doc.command.stdin = body
    if not doc.quoted:  # an unquoted body expands: its $(...) run, whatever command reads it
        doc.target.subs += read_double_content(body).subs
    return i


def parse(text: str) -> list[Command]:
    """Simple commands of `text`, in order, with their redirections, here-documents and pipe links."""
    commands: list[Command] = []
    cur = Command()
    heredocs: list[_Heredoc] = []
    pending_redir: str | None = None
    i, n = 0, len(text)

    def finish(pipe: bool = False) -> None:
        nonlocal cur
        if cur.words or cur.redirs:
            cur.pipe_next = pipe
            commands.append(cur)
        cur = Command()

    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and text[i + 1 : i + 2] == "\n":
            i += 2
            continue
        if c == "#" and (i == 0 or text[i - 1] in META):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "\n":
            finish()
            i += 1
            for doc in heredocs:
                i = _read_heredoc_body(text, i, doc)
            heredocs.clear()
            continue
        if c in "<>" and text[i + 1 : i + 2] == "(":
            end = balanced(text, i + 1)
            word = Word(text[i:end], [text[i + 2 : end - 1]])
            if pending_redir is not None:
                cur.redirs.append((pending_redir, word))
                pending_redir = None
            else:
                cur.words.append(word)
            i = end
            continue
        m = _REDIR.match(text, i)
        if m and (m.group(1) or c in "<>"):
            pending_redir = m.group(0)
            i = m.end()
            continue
        sep = next((s for s in _SEPARATORS if text.startswith(s, i)), None)
        if sep is not None:
            finish(pipe=sep in ("|", "|&"))
            i += len(sep)
            continue
        if pending_redir is None:
            words, i = read_words(text, i)
            cur.words += words
            continue
        start = i
        word, i = read_word(text, i)
        cur.redirs.append((pending_redir, word))
        if pending_redir.endswith(("<<", "<<-")):
            quoted = any(q in text[start:i] for q in _QUOTING)
            heredocs.append(_Heredoc(word.text, pending_redir.endswith("-"), quoted, cur, word))
        elif pending_redir.endswith("<<<"):
            cur.stdin = word.text + "\n"
        pending_redir = None
    finish()
    return commands


def code_only(text: str) -> str:
    """`text` with quoted strings emptied and comments dropped (for whole-text patterns)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            out.append(text[i : i + 2])
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            out.append("''")
            i = n if j < 0 else j + 1
        elif c == '"':
            out.append('""')
            i = end_of_double(text, i + 1)
        elif c == "#" and (i == 0 or text[i - 1] in META):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)
