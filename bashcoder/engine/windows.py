"""The windows that keep a prompt inside the model's context and a huge document as cheap as a small one.

Pure functions, in two kinds:
- characters (`tail_chars`, `head_chars`): a first cut by length alone, so
  the tokenizer and the syntax check never see a multi-megabyte document;
- tokens (`window_prefix`, `window_suffix`): the exact fit to a token budget.

Both kinds cut at line boundaries and move a prefix window's start only in
large steps counted from the document's start, so while the user types the
window - and the KV cache built on it - stays the same for many keystrokes
(ARCHITECTURE.md, "Keep the prompt window stable").
"""

from __future__ import annotations

from collections.abc import Callable

MAX_CHARS_PER_TOKEN = 16
"""No window of more characters a token than this is considered (bash runs 3-4)."""
PREFIX_CHARS_PER_TOKEN = 8
SUFFIX_CHARS_PER_TOKEN = 4
"""The character windows are generous (bash runs ~3-4 characters a token), so the token budget decides;
they bound the tokenizer's work, which windowing repeats a few times a request."""
CHECK_WINDOW_CHARS = 20_000
"""Syntax checks look at this much text around the cursor: enough for any enclosing compound,
bounded so a 5 MB file costs what a small one does."""


def tail_chars(prefix: str, limit: int) -> str:
    """The end of `prefix`, at most about `limit` characters, starting at a line start.

    The start moves in steps of `limit // 2` counted from the document's start,
    so typing at the cursor leaves it where it was for many keystrokes.
    """
    if len(prefix) <= limit:
        return prefix
    step = max(1, limit // 2)
    k = -(-(len(prefix) - limit) // step)  # ceil: the smallest step whose cut fits the limit
    cut = k * step
    nl = prefix.find("\n", cut - 1)
    start = nl + 1 if 0 <= nl < cut - 1 + step else cut
    return prefix[start:]


def head_chars(suffix: str, limit: int) -> str:
    """The start of `suffix`, at most `limit` characters, ending at a line end when there is one."""
    if len(suffix) <= limit:
        return suffix
    nl = suffix.rfind("\n", 0, limit)
    return suffix[: nl + 1] if nl >= 0 else suffix[:limit]


def window_prefix(
    prefix: str, count_tokens: Callable[[str], int], budget: int, step_chars: int = 1024
) -> str:
    """Keep the end of `prefix` within `budget` tokens, cut at a line start.

    The start only moves in steps of `step_chars` (to the first line start at
    or after a multiple of it), so while the user types, the window - and the
    KV cache built on it - stays the same for many keystrokes.
    """
    if budget <= 0:
        return ""
    step = max(1, step_chars)
    # Bash averages 3-4 chars a token; windows of more than MAX_CHARS_PER_TOKEN
    # chars a token are not considered, so we never tokenize a
    # multi-megabyte prefix again and again. Starting the scan at a multiple of
    # `step` keeps the quantisation, and so the stability, unchanged.
    k = max(1, -(-(len(prefix) - budget * MAX_CHARS_PER_TOKEN) // step))
    if k == 1 and count_tokens(prefix) <= budget:
        return prefix
    while k * step < len(prefix):
        cut = prefix.find("\n", k * step - 1)
        start = cut + 1 if cut >= 0 else k * step
        rest = prefix[start:]
        if not rest.strip():
            break  # only the last line start is left: that line alone is over the budget
        if count_tokens(rest) <= budget:
            return rest
        k += 1
    # A single huge last line: keep its end, character-trimmed.
    tail = prefix[-budget:]
    while tail and count_tokens(tail) > budget:
        tail = tail[len(tail) // 4 + 1 :]
    return tail


def window_suffix(suffix: str, count_tokens: Callable[[str], int], budget: int) -> str:
    """Keep the beginning of `suffix` within `budget` tokens, cut at a line end."""
    if budget <= 0:
        return ""
    limit = budget * MAX_CHARS_PER_TOKEN  # see window_prefix
    if len(suffix) > limit:
        cut = suffix.rfind("\n", 0, limit)
        suffix = suffix[: cut + 1] if cut >= 0 else suffix[:limit]
    if count_tokens(suffix) <= budget:
        return suffix
    lines = suffix.splitlines(keepends=True)
    lo, hi = 0, len(lines)
    # Binary search the number of whole lines that fit.
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens("".join(lines[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return "".join(lines[:lo])
