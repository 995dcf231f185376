"""The whole suggestion at a cursor: what the language server, the REPL and the eval share.

Adds, on top of the Generator:
- the document as the model saw its training data: CRLF line endings turned
  into LF on the way in and back on the way out, text the tokenizer cannot
  take made safe, and character windows so a huge file costs what a small one does;
- the stop rule for the cursor, and one `Halt` (staleness and the time
  budget, counted from the request's own start) carried down to decoding;
- post-processing: never repeat what follows the cursor (the rest of its
  line included: an editor's auto-closed `)"`), cut half characters, close
  compounds the suffix lacks, drop trivial text and duplicates;
- syntax ranking, and type-through (a user who types what the last
  suggestion began with is answered from it, without the model).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bashcoder.engine.generate import Candidate, Generator, Halt, SamplingConfig
from bashcoder.engine.knobs import (
    ANSWER_RESERVE_MS,
    BLOCK_BUDGET_FACTOR,
    DEFAULT_MODE,
    MIN_SUGGESTION_CHARS,
    RERANK_COST_FACTOR,
    Mode,
)
from bashcoder.engine.rerank import RerankConfig, finished, left_to_right_lines, suffix_scores, wants_rerank
from bashcoder.engine.stops import CLOSING_CHARS, close_compounds, stop_rule_for, trim_suffix_overlap
from bashcoder.engine.subcommands import fit_subcommand, unknown_subcommand, word_choices
from bashcoder.engine.syntax import candidates_ok, code_share, rank
from bashcoder.engine.tokenizer import encodable
from bashcoder.engine.windows import (
    CHECK_WINDOW_CHARS,
    PREFIX_CHARS_PER_TOKEN,
    SUFFIX_CHARS_PER_TOKEN,
    head_chars,
    tail_chars,
)

BAD_BYTES = "\ufffd"


@dataclass(frozen=True)
class CompletionRequest:
    """A cursor in a document and how to complete there."""

    prefix: str
    """Text before the cursor (the whole document's: the engine windows it)."""
    suffix: str = ""
    """Text after the cursor."""
    mode: Mode = DEFAULT_MODE
    """'line', 'block' or 'auto' (decided from the cursor's context)."""
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    """Sampling knobs, including how many candidates."""
    check_syntax: bool = True
    """Rank candidates that keep the file parseable first (bash -n)."""
    time_budget_ms: float = 0.0
    """Most milliseconds from `started` to a single-line answer (block: knobs.BLOCK_BUDGET_FACTOR
    times as long); when it runs out the model stops and the text so far is the suggestion,
    the rest comes when the user types through it or accepts it. 0 = no limit."""
    rerank: RerankConfig | None = None
    """A line with a line after it: also draw lines left to right and show the one that best leads into
    the next line (`engine.rerank`); under a time budget only when knobs.RERANK_COST_FACTOR times
    what the FIM line took is left of it. None = off."""
    started: float = field(default_factory=time.perf_counter, compare=False)
    """`time.perf_counter()` of the keystroke: the time budget counts from here, queueing included.
    Not part of the request's identity (the same cursor asked again is the same request)."""

    def deadline(self, mode: str) -> float | None:
        """The `time.perf_counter()` by which decoding must end, or None without a budget."""
        if self.time_budget_ms <= 0:
            return None
        factor = BLOCK_BUDGET_FACTOR if mode == "block" else 1
        return self.started + (factor * self.time_budget_ms - ANSWER_RESERVE_MS) / 1000


@dataclass(frozen=True)
class Suggestion:
    """A ranked, post-processed completion."""

    text: str
    """Text to insert at the cursor (in the document's own line endings)."""
    mean_logprob: float
    syntax_ok: bool | None
    mode: str
    """The resolved mode ('line' or 'block')."""
    from_cache: bool = False
    """True when answered by type-through, without the model."""
    finish: str = ""
    """Why the model stopped: 'stop', 'eot', 'length' or 'time' (see generate.Candidate)."""


@dataclass
class _Last:
    prefix: str
    suffix: str
    suggestions: list[Suggestion]


# ---- the document as the model sees it (pure) ------------------------------------------
def line_ending(prefix: str, suffix: str) -> str:
    """The document's line ending: that of its first line break (before the cursor, else after),
    "\\r\\n" or "\\n"; a lone "\\r" only in a document with no "\\n" at all (classic Mac OS files,
    which LSP counts as line breaks too), so a stray CR in a CRLF or LF file changes nothing."""
    if "\n" not in prefix and "\n" not in suffix:
        return "\r" if "\r" in prefix or "\r" in suffix else "\n"
    for text in (prefix, suffix):
        nl = text.find("\n")
        if nl >= 0:
            return "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"
    return "\n"


def to_model_text(text: str) -> str:
    """Text as the model was trained on it: LF line endings (from CRLF, or from lone CRs in a text
    without any LF: a classic Mac OS file), nothing the tokenizer cannot encode."""
    text = text.replace("\r\n", "\n")
    return encodable(text if "\n" in text else text.replace("\r", "\n"))


def to_document_text(text: str, eol: str) -> str:
    """A suggestion written with the document's own line endings."""
    return text.replace("\n", eol) if eol != "\n" else text


# ---- post-processing (pure) -------------------------------------------------------------
def cut_at_line_rest(text: str, suffix: str) -> str:
    """`text` cut where it would repeat what already stands after the cursor on its line.

    An editor that auto-closed `)"` leaves `stamp="$(date |)"`: a suggestion
    `+%F)" || exit 1` would give `...+%F)" || exit 1)"`. The suggestion ends
    where the rest of the line (or, failing that, its leading closing
    characters) last appears in the suggestion's first line.
    """
    rest = suffix.split("\n", 1)[0].rstrip()
    if not rest.strip() or not text:
        return text
    first = text.split("\n", 1)[0]
    at = first.rfind(rest.strip())
    if at < 0:
        closers = ""
        for ch in rest.lstrip():
            if ch not in CLOSING_CHARS:
                break
            closers += ch
        at = first.rfind(closers) if closers else -1
    return text[:at] if at >= 0 else text


def postprocess(prefix: str, suffix: str, text: str, mode: str) -> str:
    """Trim a raw candidate into what the editor should show (pure)."""
    # The model may stop inside a multi-byte character; never show half of one.
    text = text.split(BAD_BYTES, 1)[0]
    cut = cut_at_line_rest(text, suffix)
    # Cut before the rest of the line: what now ends the text is the user's, not an overlap.
    text = cut if cut != text else trim_suffix_overlap(text, suffix)
    if mode == "block":
        # A body the stop rule cut away entirely (`for f in *; do` + an unindented line) leaves
        # nothing to close: a lone `done` would be an empty loop, which bash rejects.
        if not text.strip():
            return ""
        text = close_compounds(prefix, text.rstrip(" \t\n"), suffix)
    text = text.rstrip(" \t") if mode == "line" else text.rstrip()
    if len(text.strip()) < MIN_SUGGESTION_CHARS:
        return ""
    return text


KNOWN_WORD_MS = 40.0
"""Budget left that `Completer.known_word` needs: scoring a few names in one batch took 4-27 ms on a
quiet 2-core AMD EPYC (the prompt's KV cache reused), several times that on loaded cores."""


def _time_left(halt: Halt) -> float:
    """Seconds left before the request's deadline (infinite without one)."""
    return float("inf") if halt.deadline is None else halt.deadline - time.perf_counter()


def whole_lines(cand: Candidate, mode: str) -> tuple[str, str]:
    """A candidate's text and the mode to post-process it in (pure): a block cut by the time or
    token budget loses its half-written last line, so the closers `postprocess` appends follow a
    whole line (`sed -e 's/(` + `done` would sit in an open quote); a block whose only line is
    half-written is kept as a line, to be typed through."""
    text = cand.text
    if mode != "block" or cand.finish not in ("time", "length"):
        return text, mode
    lead = len(text) - len(text.lstrip("\n"))
    last = text.rfind("\n")
    return (text[:last], mode) if last >= lead else (text, "line")


def type_through(last: _Last | None, prefix: str, suffix: str) -> list[Suggestion] | None:
    """Suggestions left after the user typed the start of the last ones (pure)."""
    if last is None or suffix != last.suffix or not prefix.startswith(last.prefix):
        return None
    typed = prefix[len(last.prefix) :]
    if not typed:
        return None
    rest = [
        replace(s, text=s.text[len(typed) :], from_cache=True)
        for s in last.suggestions
        if s.text.startswith(typed) and len(s.text[len(typed) :].strip()) >= MIN_SUGGESTION_CHARS
    ]
    return rest or None


def _check_window(prefix: str, suffix: str) -> tuple[str, str]:
    return tail_chars(prefix, CHECK_WINDOW_CHARS), head_chars(suffix, CHECK_WINDOW_CHARS)


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

    def _windows(self, prefix: str, suffix: str) -> tuple[str, str]:
        ctx = self.generator.cfg.context_length
        return (
            to_model_text(tail_chars(prefix, PREFIX_CHARS_PER_TOKEN * ctx)),
            to_model_text(head_chars(suffix, SUFFIX_CHARS_PER_TOKEN * ctx)),
        )

    def cached(self, prefix: str, suffix: str) -> list[Suggestion] | None:
        """Type-through answer for this cursor (document text), or None when the model is needed."""
        eol = line_ending(prefix, suffix)
        pre, suf = self._windows(prefix, suffix)
        with self._lock:
            hit = type_through(self._last, pre, suf)
        if hit is None:
            return None
        return [replace(s, text=to_document_text(s.text, eol)) for s in hit]

    def complete(
        self, req: CompletionRequest, is_stale: Callable[[], bool] | None = None
    ) -> list[Suggestion]:
        """Ranked suggestions, best first; raises generate.Stale when `is_stale()` turns true.

        The time budget counts from `req.started`.
        """
        hit = self.cached(req.prefix, req.suffix)
        if hit is not None:
            return hit
        eol = line_ending(req.prefix, req.suffix)
        pre, suf = self._windows(req.prefix, req.suffix)
        stop = stop_rule_for(pre, req.mode, suf)
        halt = Halt(is_stale, req.deadline(stop.mode))
        candidates = self.generator.complete(pre, suf, req.sampling, stop, halt)
        rerank = req.rerank is not None and stop.mode == "line" and wants_rerank(suf)
        now = time.perf_counter()
        if rerank and halt.deadline is not None:
            # The rerank costs several FIM lines: only with that much of the budget left.
            rerank = halt.deadline - now >= RERANK_COST_FACTOR * (now - req.started)
        if rerank and req.rerank is not None:
            max_tokens = req.sampling.max_tokens
            drawn = left_to_right_lines(self.generator, pre, stop, max_tokens, req.rerank, halt)
            candidates += finished(drawn)
        suggestions = self.rank(replace(req, prefix=pre, suffix=suf), candidates, stop.mode, rerank)
        if not suggestions and stop.mode == "line" and _time_left(halt) >= KNOWN_WORD_MS / 1000:
            if any(unknown_subcommand(pre, c.text, c.finish not in ("time", "length")) for c in candidates):
                suggestions = self.known_word(pre, suf)
        with self._lock:
            self._last = _Last(pre, suf, suggestions)
        return [replace(s, text=to_document_text(s.text, eol)) for s in suggestions]

    def known_word(self, prefix: str, suffix: str) -> list[Suggestion]:
        """The program's own subcommand the typed part of one completes to, the likeliest under the
        model first, when the model's suggestions all named one it lacks (`git st` -> `git step`,
        dropped): as a shell's completion would, constrained to the program's list and ordered
        by the model (`Generator.score`, one batch over the few names). [] when the cursor ends
        no subcommand word, or more than a few names fit (`subcommands.word_choices`)."""
        found = word_choices(prefix)
        if found is None or suffix.split("\n", 1)[0].strip():
            return []
        typed, names = found
        head = prefix[: len(prefix) - len(typed)]
        base = head.rstrip(" \t")
        gen = self.generator
        conts = [gen.tokenizer.encode(head[len(base) :] + name) for name in names]
        prompt = gen.left_to_right_prompt(base, max(map(len, conts)))
        scores = gen.score(prompt, conts)
        ranked = sorted(zip(scores, names, strict=True), key=lambda pair: -pair[0])
        best_score, best = ranked[0]
        text = best[len(typed) :]
        if len(text.strip()) < MIN_SUGGESTION_CHARS:
            return []
        return [Suggestion(text, best_score / len(conts[names.index(best)]), None, "line", finish="stop")]

    def rank(
        self,
        req: CompletionRequest,
        candidates: list[Candidate],
        mode: str,
        by_suffix: bool = False,
        by_code_share: bool = False,
    ) -> list[Suggestion]:
        """Post-processed, deduplicated suggestions, syntax-valid first, then by mean log-probability,
        or with `by_suffix` by how well each leads into the next line (`rerank.suffix_scores`).
        With `by_code_share` (whole scripts), those mostly comments rank after the others
        (`syntax.rank_key`).

        `req.prefix`/`req.suffix` are model text (LF, windowed).
        """
        seen: dict[str, Candidate] = {}
        for cand in candidates:
            text = postprocess(req.prefix, req.suffix, *whole_lines(cand, mode))
            # `git st` + `ep`: no subcommand git lacks (`atus-remote` is cut to `atus`)
            text = fit_subcommand(req.prefix, text, cand.finish not in ("time", "length")) or ""
            if len(text.strip()) < MIN_SUGGESTION_CHARS:
                continue
            if text and (text not in seen or cand.mean_logprob > seen[text].mean_logprob):
                seen[text] = cand
        texts = list(seen)
        checks: list[bool | None] = [None] * len(texts)
        if req.check_syntax and len(texts) > 0:
            pre, suf = _check_window(req.prefix, req.suffix)
            checks = list(candidates_ok(pre, texts, suf))
        keys = [seen[t].mean_logprob for t in texts]
        if by_suffix and len(texts) > 1:
            keys = suffix_scores(self.generator, req.prefix, req.suffix, texts, req.sampling.max_tokens)
        shares = [code_share(t) if by_code_share else None for t in texts]
        order = rank([(checks[i], keys[i], shares[i]) for i in range(len(texts))])
        return [
            Suggestion(texts[i], seen[texts[i]].mean_logprob, checks[i], mode, finish=seen[texts[i]].finish)
            for i in order
        ]

    def write_script(
        self, req: CompletionRequest, is_stale: Callable[[], bool] | None = None
    ) -> list[Suggestion]:
        """Whole scripts (block mode, no stop rule but the token limit) for the text after `req.prefix`,
        ranked; a candidate cut by the token limit loses its unfinished last line."""
        eol = line_ending(req.prefix, req.suffix)
        pre, suf = self._windows(req.prefix, req.suffix)
        candidates = self.generator.complete(
            pre, suf, req.sampling, None, Halt(is_stale, req.deadline("block"))
        )
        model_req = replace(req, prefix=pre, suffix=suf, mode="block")
        ranked = self.rank(model_req, [complete_lines(c) for c in candidates], "block", by_code_share=True)
        return [replace(s, text=to_document_text(s.text, eol)) for s in ranked]


def complete_lines(cand: Candidate) -> Candidate:
    """A script candidate cut off by the token limit, without its unfinished last line (pure)."""
    if cand.finish != "length" or "\n" not in cand.text:
        return cand
    return replace(cand, text=cand.text[: cand.text.rfind("\n") + 1])
