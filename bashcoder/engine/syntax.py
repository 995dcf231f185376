"""Is a completion valid bash? `bash -n` decides; tree-sitter-bash pre-checks.

tree-sitter-bash flags about 3% of valid real scripts, so it is only used
relatively: does prefix + candidate + suffix have more parse errors than the
text without the candidate? `bash -n` (parse without running) is the
authority and runs in a subprocess with a timeout.

`bash -n` runs with the parse-time options a script may set for itself
(`shopt -s extglob` does not run under -n, so `rm -- !(*.keep)` would be
rejected): see PARSE_OPTIONS. tree-sitter also tells where the literal text
is (strings, comments, here-document bodies), so that words there are not
read as keywords (`literal_spans`).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from tree_sitter import Language, Parser

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.knobs import MIN_CODE_SHARE


@dataclass(frozen=True)
class SyntaxResult:
    ok: bool
    message: str = ""
    """bash's first complaint, e.g. "line 3: syntax error near unexpected token `fi'"."""
    complaints: tuple[str, ...] = ()
    """Every line bash wrote, in order: a warning (an unclosed here-document) can come first."""


@lru_cache(maxsize=1)
def _parser() -> Parser:
    import tree_sitter_bash

    return Parser(Language(tree_sitter_bash.language()))


def error_count(text: str) -> int:
    """Number of ERROR and MISSING nodes tree-sitter-bash finds in `text`."""
    tree = _parser().parse(text.encode("utf-8", errors="surrogatepass"))
    if not tree.root_node.has_error:
        return 0
    count = 0
    cursor = tree.walk()
    visited_children = False
    while True:
        node = cursor.node
        if not visited_children:
            if node is not None and (node.is_error or node.is_missing):
                count += 1
                visited_children = True  # don't descend into an error subtree
                continue
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited_children = False
            continue
        if not cursor.goto_parent():
            return count
        visited_children = True


def adds_parse_errors(prefix: str, candidate: str, suffix: str) -> bool:
    """Fast pre-check: does inserting `candidate` add tree-sitter errors?"""
    return error_count(prefix + candidate + suffix) > error_count(prefix + suffix)


PARSE_OPTIONS = ("-O", "extglob")
"""Options that change how bash parses, turned on for the check. A script enables extglob with
`shopt -s extglob`, which `bash -n` never runs; turning it on accepts `!(*.keep)` and the other
extended patterns and rejects no script that is valid without it."""

LITERAL_NODES = frozenset({"string_content", "raw_string", "ansi_c_string", "comment", "heredoc_content"})
"""tree-sitter-bash nodes whose text is data, never code (the `$(...)` inside a string is not one)."""


def literal_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) character offsets of string contents, comments and here-document bodies in `text`.

    tree-sitter recovers from errors, so an unfinished script (a cursor in
    the middle of a `for`) still gets its strings and comments found.
    """
    data = text.encode("utf-8", errors="surrogatepass")
    tree = _parser().parse(data)
    spans: list[tuple[int, int]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in LITERAL_NODES or (node.type == "heredoc_body" and not node.named_children):
            spans.append((node.start_byte, node.end_byte))
            continue
        stack.extend(node.children)
    if not spans:
        return []
    # Byte offsets to character offsets (the text may hold non-ASCII characters).
    ascii_only = len(data) == len(text)
    out = []
    for start, end in sorted(spans):
        if ascii_only:
            out.append((start, end))
        else:
            out.append(
                (
                    len(data[:start].decode("utf-8", "surrogatepass")),
                    len(data[:end].decode("utf-8", "surrogatepass")),
                )
            )
    return out


def mask_literals(text: str) -> str:
    """`text` with the characters of every literal span replaced by spaces (newlines kept), pure."""
    spans = literal_spans(text)
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


@lru_cache(maxsize=1)
def _bash() -> str:
    path = shutil.which("bash")
    if path is None:
        raise BashcoderError("bash is not on PATH; install bash to check syntax.")
    return path


def shell_bytes(text: str) -> bytes:
    """The bytes bash should read for `text`: undecodable bytes that Python carries as lone surrogates
    (`surrogateescape`, U+DC80-U+DCFF) become those bytes again; any other lone surrogate is kept
    as UTF-8-encoded surrogate so nothing is lost."""
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="surrogatepass")


def bash_check(text: str, timeout: float = 5.0) -> SyntaxResult:
    """`bash -n` on `text` (nothing is executed)."""
    try:
        proc = subprocess.run(
            [_bash(), *PARSE_OPTIONS, "-n"],
            input=shell_bytes(text),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return SyntaxResult(False, "bash -n timed out")
    lines = tuple(_clean(ln) for ln in proc.stderr.decode("utf-8", errors="replace").strip().splitlines())
    return SyntaxResult(proc.returncode == 0, lines[0] if lines else "", lines)


def _clean(line: str) -> str:
    # "bash: line 3: syntax error ..." -> "line 3: syntax error ..."
    return (
        line.split(": ", 1)[1]
        if line.startswith(("bash: ", "/bin/bash: ")) or "bash: line" in line[:30]
        else line
    )


def baseline_parses(prefix: str, suffix: str) -> bool:
    """Does the file parse with some valid line at the cursor? (The same for every candidate.)

    At a line start an empty body ("do\\ndone") is itself invalid; the null
    command stands in for "some valid line here".
    """
    filler = ":\n" if not prefix or prefix.endswith("\n") else ""
    return bash_check(prefix + filler + suffix).ok


def candidate_ok(prefix: str, candidate: str, suffix: str) -> bool:
    """True when the candidate keeps the file as parseable as it was.

    A file that fails `bash -n` whatever stands at the cursor (the user is
    mid-edit) is judged by tree-sitter's relative count instead.
    """
    return candidates_ok(prefix, [candidate], suffix)[0]


def candidates_ok(prefix: str, candidates: Sequence[str], suffix: str) -> list[bool]:
    """`candidate_ok` for several candidates at one cursor; the baseline is checked only if one fails.

    (Checks run one after another: side by side, four `bash -n` took longer on
    2 cores than in a row.)
    """
    baseline: bool | None = None
    out = []
    for cand in candidates:
        if bash_check(prefix + cand + suffix).ok:
            out.append(True)
            continue
        if baseline is None:
            baseline = baseline_parses(prefix, suffix)
        out.append(not baseline and not adds_parse_errors(prefix, cand, suffix))
    return out


def code_share(text: str) -> float:
    """The share of `text`'s non-blank lines that are code (not `#` comments): 0.0 to 1.0.

    `text` starts at a line start (a script's body). 0.0 for text with no
    non-blank line. Here-document lines that start with `#` count as
    comments: a rough measure, used only to order candidates (`rank_key`).
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return 0.0
    return sum(1 for ln in lines if not ln.lstrip().startswith("#")) / len(lines)


def rank_key(
    syntax_ok: bool | None, mean_logprob: float, share: float | None = None
) -> tuple[int, int, float]:
    """Sort key: parseable candidates first, then (when `share`, a `code_share`, is given) those
    at least knobs.MIN_CODE_SHARE code, then by mean log-probability (nats per token)."""
    mostly_comments = share is not None and share < MIN_CODE_SHARE
    return (0 if syntax_ok is not False else 1, 1 if mostly_comments else 0, -mean_logprob)


def rank(items: Sequence[tuple[bool | None, float] | tuple[bool | None, float, float | None]]) -> list[int]:
    """Indices of `items` ((syntax_ok, mean_logprob[, code_share]) tuples) best first."""
    return sorted(range(len(items)), key=lambda i: rank_key(*items[i]))
