"""Fill-in-the-middle prompt layouts, as pure functions (the windows that fit a prompt to the context are in `windows`).

PSM: <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle
SPM: <|fim_suffix|> suffix <|fim_prefix|> prefix <|fim_middle|> middle

Serving uses SPM: typing at the cursor only appends to the prefix, which sits
at the end of the prompt, so the previous request's KV cache stays valid up to
the cursor. Training uses both orders (Bavarian et al. 2022).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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
