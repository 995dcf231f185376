"""Mid-line probes: the cursor after a word inside a command line, as a terminal user pauses (`git |`).

A probe cuts a command line at the start of one of its words (not the
first): the model sees the text before the cursor and must write the rest
of the line. Scores: the next word exactly (what a terminal user accepts
most often, Alt-F in the REPL) and the whole rest of the line, with edit
similarity. Comment lines and lines of one word are not probed; probes come
only from files that pass `bash -n`, like the line-start probes.

Two modes: `prefix` (the text before the cursor only, as the REPL asks) and
`fim` (the rest of the file after the line too, as the editors ask); both
through `Generator.cursor_prompt`, the prompt and token healing the surfaces
use (left to right when nothing follows the cursor, SPM otherwise).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.rerank import RerankConfig, best_line
from bashcoder.engine.stops import StopRule
from bashcoder.trainer.quality.nextline import similarity

_WORD_START = re.compile(r"(?<=[ \t])(?=[^ \t])")


@dataclass(frozen=True)
class MidlineProbe:
    """A cursor inside a command line."""

    doc: int
    prefix: str
    """Text before the cursor (the line up to a word start included)."""
    target: str
    """The rest of the line after the cursor, without its newline."""
    rest: str
    """Text after the line (starting with its newline)."""

    @property
    def next_word(self) -> str:
        return first_word(self.target)


@dataclass(frozen=True)
class MidlineResult:
    probe: MidlineProbe
    mode: str
    completion: str
    word_exact: bool
    line_exact: bool
    similarity: float


def first_word(text: str) -> str:
    """The first whitespace-delimited word of `text` ("" when there is none)."""
    parts = text.split(None, 1)
    return parts[0] if parts else ""


def cut_points(line: str) -> list[int]:
    """Offsets in `line` where a word other than the first starts (after spaces or tabs), in code only."""
    code = line.split(" #", 1)[0].rstrip()
    if not code.strip() or code.lstrip().startswith("#"):
        return []
    first = len(code) - len(code.lstrip())
    return [m.start() for m in _WORD_START.finditer(code) if m.start() > first]


def sample_midline_probes(
    texts: list[str], n: int, seed: int = 0, parses: list[bool] | None = None
) -> list[MidlineProbe]:
    """`n` cursors drawn uniformly over all word starts of all eligible command lines (seeded)."""
    pool: list[tuple[int, int, int]] = []  # (doc, line start, offset in line)
    for d, text in enumerate(texts):
        if parses is not None and not parses[d]:
            continue
        start = 0
        for line in text.split("\n"):
            pool.extend((d, start, cut) for cut in cut_points(line))
            start += len(line) + 1
    rng = random.Random(seed)
    chosen = sorted(rng.sample(pool, min(n, len(pool))))
    probes = []
    for d, line_start, cut in chosen:
        text = texts[d]
        end = text.find("\n", line_start)
        end = len(text) if end < 0 else end
        probes.append(MidlineProbe(d, text[: line_start + cut], text[line_start + cut : end], text[end:]))
    return probes


def run_midline_probe(
    gen: Generator, probe: MidlineProbe, mode: str, max_tokens: int = 48, rerank: RerankConfig | None = None
) -> MidlineResult:
    """Greedy completion of the rest of the line at the probe's cursor, scored; in FIM mode with
    `rerank`, the best of it and left-to-right lines by the next line, as the editor asks."""
    sampling = SamplingConfig(temperature=0, max_tokens=max_tokens)
    stop = StopRule("line", starts_at_line_start=False)
    # Both modes ask as the surfaces do, token healing included (a cursor after a space leaves a
    # bare-space token the model rarely saw): the terminal with nothing after the cursor, the
    # editors with the rest of the file.
    suffix = probe.rest if mode == "fim" else ""
    prompt, healing = gen.cursor_prompt(probe.prefix, suffix, max_tokens)
    completion = gen.generate(prompt, sampling, stop, healing=healing)[0].text.split("\n")[0]
    if mode == "fim" and rerank is not None:
        completion = best_line(
            gen, probe.prefix, suffix, [completion], stop, max_tokens, rerank, lambda t: t.split("\n")[0]
        )
    return score_completion(probe, mode, completion)


def score_completion(probe: MidlineProbe, mode: str, completion: str) -> MidlineResult:
    """Score a completion of the rest of the probe's line (pure)."""
    return MidlineResult(
        probe,
        mode,
        completion,
        word_exact=bool(probe.next_word) and first_word(completion) == probe.next_word,
        line_exact=completion.rstrip() == probe.target.rstrip(),
        similarity=similarity(completion, probe.target),
    )
