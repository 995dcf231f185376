"""Next-line completion at sampled line starts: exact match, edit similarity, syntax.

A probe is a script cut at the start of a non-blank line: the model sees the
text before it (and, in FIM mode, the text after the line) and must write
the line. Syntax: the file with the line replaced by the completion still
passes `bash -n` (probes come only from files that pass it as written).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.rerank import RerankConfig, best_line
from bashcoder.engine.stops import StopRule
from bashcoder.engine.syntax import bash_check


@dataclass(frozen=True)
class Probe:
    """A line to predict."""

    doc: int
    prefix: str
    """Text before the line."""
    target: str
    """The line, without its newline."""
    rest: str
    """Text after the line (starting with its newline)."""


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    mode: str
    """'prefix' or 'fim'."""
    completion: str
    exact: bool
    similarity: float
    syntax_ok: bool


def line_starts(text: str) -> list[int]:
    """Offsets of non-blank lines that have at least one line before them."""
    out = []
    pos = text.find("\n")
    while 0 <= pos < len(text) - 1:
        start = pos + 1
        end = text.find("\n", start)
        line = text[start : end if end >= 0 else len(text)]
        if line.strip():
            out.append(start)
        pos = end
    return out


def sample_probes(texts: list[str], n: int, seed: int = 0, parses: list[bool] | None = None) -> list[Probe]:
    """`n` line starts drawn uniformly over all eligible lines of all texts (seeded)."""
    pool = [(d, s) for d, text in enumerate(texts) if parses is None or parses[d] for s in line_starts(text)]
    rng = random.Random(seed)
    chosen = sorted(rng.sample(pool, min(n, len(pool))))
    probes = []
    for d, start in chosen:
        text = texts[d]
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        probes.append(Probe(d, text[:start], text[start:end], text[end:]))
    return probes


def similarity(a: str, b: str) -> float:
    """1 - normalised Levenshtein distance, on lines with trailing spaces dropped."""
    return Levenshtein.normalized_similarity(a.rstrip(), b.rstrip())


def first_line(text: str) -> str:
    """A line-start completion's line: the model may open with the newline it was cut after."""
    return text.lstrip("\n").split("\n")[0]


def run_probe(
    gen: Generator, probe: Probe, mode: str, max_tokens: int = 64, rerank: RerankConfig | None = None
) -> ProbeResult:
    """Complete the probe's line greedily; in FIM mode with `rerank`, as the editor does
    (`rerank.best_line`: the FIM line and left-to-right lines, judged by the next line)."""
    sampling = SamplingConfig(temperature=0, max_tokens=max_tokens)
    stop = StopRule("line")
    # Both modes ask as the surfaces do (`cursor_prompt`, token healing included):
    # prefix-only as a terminal or the end of a file, FIM with the rest of the
    # file after the cursor as an editor.
    suffix = probe.rest if mode == "fim" else ""
    prompt, healing = gen.cursor_prompt(probe.prefix, suffix, max_tokens)
    completion = first_line(gen.generate(prompt, sampling, stop, healing=healing)[0].text)
    if mode == "fim" and rerank is not None:
        completion = best_line(gen, probe.prefix, suffix, [completion], stop, max_tokens, rerank, first_line)
    ok = bash_check(probe.prefix + completion + probe.rest).ok
    return ProbeResult(
        probe,
        mode,
        completion,
        completion.rstrip() == probe.target.rstrip(),
        similarity(completion, probe.target),
        ok,
    )
