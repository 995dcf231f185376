"""Fill-in-the-middle prompt layouts and the context window, as pure functions.

PSM: <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle
SPM: <|fim_suffix|> suffix <|fim_prefix|> prefix <|fim_middle|> middle

Serving uses SPM: typing at the cursor only appends to the prefix, which sits
at the end of the prompt, so the previous request's KV cache stays valid up to
the cursor. Training uses both orders (Bavarian et al. 2022).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_CHARS_PER_TOKEN = 16


@dataclass(frozen=True)
class FimTokens:
    """Ids of the FIM special tokens."""

    prefix: int
    suffix: int
    middle: int
    eot: int


def psm(prefix: Sequence[int], suffix: Sequence[int], t: FimTokens) -> list[int]:
    return [t.prefix, *prefix, t.suffix, *suffix, t.middle]


def spm(prefix: Sequence[int], suffix: Sequence[int], t: FimTokens) -> list[int]:
    return [t.suffix, *suffix, t.prefix, *prefix, t.middle]


def fim_permute(tokens: Sequence[int], cut1: int, cut2: int, t: FimTokens, order: str = "psm") -> list[int]:
    """Rearrange a document's tokens around two cuts into a FIM training example.

    Every input token appears exactly once in the output (plus the three
    markers), so no text is lost; the middle is followed by nothing, the
    caller appends <|endoftext|> as for any document.
    """
    a, b = sorted((max(0, min(cut1, len(tokens))), max(0, min(cut2, len(tokens)))))
    prefix, middle, suffix = tokens[:a], tokens[a:b], tokens[b:]
    head = psm(prefix, suffix, t) if order == "psm" else spm(prefix, suffix, t)
    return [*head, *middle]


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
