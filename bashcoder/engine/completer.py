"""Editor-style completion at a cursor: what the LSP server and the REPL share.

Adds, on top of the Generator: the stop rule for the cursor, post-processing
(never repeat what follows the cursor, drop empty or trivial text, close
compounds the suffix lacks), syntax ranking, and type-through (a user who
types what the last suggestion began with is answered from it, without the
model).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bashcoder.engine.generate import Candidate, Generator, SamplingConfig
from bashcoder.engine.knobs import BLOCK_BUDGET_FACTOR, DEFAULT_MODE, MIN_SUGGESTION_CHARS, Mode
from bashcoder.engine.stops import close_compounds, stop_rule_for, trim_suffix_overlap
from bashcoder.engine.syntax import candidates_ok, rank

# Syntax checks look at this much text around the cursor: enough for any
# enclosing compound, bounded so a 5 MB file costs what a small one does.
CHECK_WINDOW_CHARS = 20_000


@dataclass(frozen=True)
class CompletionRequest:
    """A cursor in a document and how to complete there."""

    prefix: str
    """Text before the cursor."""
    suffix: str = ""
    """Text after the cursor."""
    mode: Mode = DEFAULT_MODE
    """'line', 'block' or 'auto' (decided from the cursor's context)."""
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    """Sampling knobs, including how many candidates."""
    check_syntax: bool = True
    """Rank candidates that keep the file parseable first (bash -n)."""
    time_budget_ms: float = 0.0
    """Most milliseconds from the keystroke to a single-line answer (block: `BLOCK_BUDGET_FACTOR`
    times as long); when it runs out the model stops and the text so far is the suggestion,
    the rest comes when the user types through it or accepts it. 0 = no limit."""

    def deadline(self, started: float, mode: str) -> float | None:
        """The `time.perf_counter()` by which decoding must end, for a keystroke at `started`."""
        if self.time_budget_ms <= 0:
            return None
        factor = BLOCK_BUDGET_FACTOR if mode == "block" else 1
        return started + factor * self.time_budget_ms / 1000


@dataclass(frozen=True)
class Suggestion:
    """A ranked, post-processed completion."""

    text: str
    """Text to insert at the cursor."""
    mean_logprob: float
    syntax_ok: bool | None
    mode: str
    """The resolved mode ('line' or 'block')."""
    from_cache: bool = False
    """True when answered by type-through, without the model."""


@dataclass
class _Last:
    prefix: str
    suffix: str
    suggestions: list[Suggestion]


def postprocess(prefix: str, suffix: str, text: str, mode: str) -> str:
    """Trim a raw candidate into what the editor should show (pure)."""
    # The model may stop inside a multi-byte character; never show half of one.
    text = text.split("\ufffd", 1)[0]
    text = trim_suffix_overlap(text, suffix)
    if mode == "block":
        text = close_compounds(prefix, text.rstrip(" \t\n"), suffix)
    text = text.rstrip(" \t") if mode == "line" else text.rstrip()
    if len(text.strip()) < MIN_SUGGESTION_CHARS:
        return ""
    return text


def type_through(last: _Last | None, prefix: str, suffix: str) -> list[Suggestion] | None:
    """Suggestions left after the user typed the start of the last ones (pure)."""
    if last is None or suffix != last.suffix or not prefix.startswith(last.prefix):
        return None
    typed = prefix[len(last.prefix) :]
    if not typed:
        return None
    rest = [
        Suggestion(s.text[len(typed) :], s.mean_logprob, s.syntax_ok, s.mode, from_cache=True)
        for s in last.suggestions
        if s.text.startswith(typed) and len(s.text[len(typed) :].strip()) > 0
    ]
    return rest or None


def _window(prefix: str, suffix: str) -> tuple[str, str]:
    if len(prefix) > CHECK_WINDOW_CHARS:
        cut = prefix.find("\n", len(prefix) - CHECK_WINDOW_CHARS)
        prefix = prefix[cut + 1 :] if cut >= 0 else prefix[-CHECK_WINDOW_CHARS:]
    if len(suffix) > CHECK_WINDOW_CHARS:
        cut = suffix.rfind("\n", 0, CHECK_WINDOW_CHARS)
        suffix = suffix[: cut + 1] if cut >= 0 else suffix[:CHECK_WINDOW_CHARS]
    return prefix, suffix


class Completer:
    """Completions at a cursor, with type-through; safe to call from one worker thread."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self._last: _Last | None = None
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop the type-through memory (e.g. when the document changed elsewhere)."""
        with self._lock:
            self._last = None

    def cached(self, prefix: str, suffix: str) -> list[Suggestion] | None:
        """Type-through answer for this cursor, or None when the model is needed."""
        with self._lock:
            return type_through(self._last, prefix, suffix)

    def complete(
        self,
        req: CompletionRequest,
        is_stale: Callable[[], bool] | None = None,
        started: float | None = None,
    ) -> list[Suggestion]:
        """Ranked suggestions, best first; raises generate.Stale when superseded.

        `started` is the `time.perf_counter()` of the keystroke, which the
        time budget counts from (default: now).
        """
        started = time.perf_counter() if started is None else started
        hit = self.cached(req.prefix, req.suffix)
        if hit is not None:
            return hit
        stop = stop_rule_for(req.prefix, req.mode)
        deadline = req.deadline(started, stop.mode)
        candidates = self.generator.complete(req.prefix, req.suffix, req.sampling, stop, is_stale, deadline)
        suggestions = self.rank(req, candidates, stop.mode)
        with self._lock:
            self._last = _Last(req.prefix, req.suffix, suggestions)
        return suggestions

    def rank(self, req: CompletionRequest, candidates: list[Candidate], mode: str) -> list[Suggestion]:
        seen: dict[str, Candidate] = {}
        for cand in candidates:
            text = postprocess(req.prefix, req.suffix, cand.text, mode)
            if text and (text not in seen or cand.mean_logprob > seen[text].mean_logprob):
                seen[text] = cand
        texts = list(seen)
        checks: list[bool | None] = [None] * len(texts)
        if req.check_syntax and len(texts) > 0:
            pre, suf = _window(req.prefix, req.suffix)
            checks = list(candidates_ok(pre, texts, suf))
        order = rank([(checks[i], seen[t].mean_logprob) for i, t in enumerate(texts)])
        return [Suggestion(texts[i], seen[texts[i]].mean_logprob, checks[i], mode) for i in order]
