"""Run every measurement of `bashcoder-eval` and gather one report."""

from __future__ import annotations

import math
import platform
import statistics
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

import bashcoder
from bashcoder.engine.device import cpu_model
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Generator
from bashcoder.engine.loader import load_generator
from bashcoder.engine.rerank import RerankConfig
from bashcoder.engine.syntax import bash_check
from bashcoder.trainer.quality import shellcheck
from bashcoder.trainer.quality.bpb import model_nll
from bashcoder.trainer.quality.compression import COMPRESSORS, baselines, compressed_bpb
from bashcoder.trainer.quality.midline import MidlineResult, run_midline_probe, sample_midline_probes
from bashcoder.trainer.quality.nextline import ProbeResult, run_probe, sample_probes
from bashcoder.trainer.quality.texts import EvalText, folder_texts, validation_texts

MODES = ("prefix", "fim")


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate and how much (the command's flags, one to one)."""

    model: str | None = None
    """Model directory; None = default lookup."""
    data: str | None = None
    """Corpus directory: evaluate on its validation split."""
    texts: str | None = None
    """Folder of scripts to evaluate on instead."""
    samples: int = 500
    """Line starts sampled for next-line metrics, and as many cursors inside command lines for mid-line ones."""
    seed: int = 0
    """Seed of the line sampler."""
    max_tokens: int = 64
    """Most tokens per next-line completion."""
    device: str | None = None
    """cuda, mps, cpu or None (auto)."""
    shellcheck_samples: int = 200
    """Completions also checked with ShellCheck (0 = skip; it is slow)."""
    val_fraction: float = 0.05
    """Validation share used when the model was trained (to rebuild the split)."""
    bpb_stride: int | None = None
    """Tokens between the sliding windows that read a long document (None = half the context)."""
    rerank: bool = True
    """FIM probes ask as the editor does: FIM and left-to-right lines, judged by the next line
    (`engine.rerank`); False = the greedy FIM line alone."""


@dataclass
class ModeScores:
    """Line-start probes in one mode."""

    exact_match: float
    edit_similarity: float
    syntax_pass: float
    probes: int


@dataclass
class MidlineScores:
    """Mid-line probes in one mode: the next word, and the rest of the line."""

    next_word: float
    rest_exact: float
    edit_similarity: float
    probes: int


@dataclass
class SourceScores:
    """Everything measured on one corpus source's texts (git, debian, docs, ...)."""

    documents: int
    bytes: int
    bpb: float
    xz_bpb: float | None
    modes: dict[str, ModeScores]
    midline: dict[str, MidlineScores]


@dataclass
class EvalReport:
    model: str
    texts: str
    documents: int
    bytes: int
    bpb: float
    bpb_stride: int
    """Sliding-window stride of the bits per byte (= context length: disjoint windows)."""
    baselines: dict[str, float | None]
    modes: dict[str, ModeScores]
    midline: dict[str, MidlineScores]
    by_source: dict[str, SourceScores]
    shellcheck_added_per_completion: float | None
    shellcheck_checked: int
    fim_reranked: bool = False
    """FIM probes asked as the editor does, with left-to-right lines judged by the next line."""
    hardware: dict[str, str] = field(default_factory=dict)
    examples: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def load_texts(cfg: EvalConfig) -> tuple[str, list[EvalText]]:
    if cfg.texts:
        return f"folder {cfg.texts}", folder_texts(Path(cfg.texts), lambda line: print(line, file=sys.stderr))
    data = Path(cfg.data or "data")
    return f"validation split of {data}", validation_texts(data, cfg.val_fraction)


def score_midline(results: list[MidlineResult]) -> MidlineScores:
    if not results:
        return MidlineScores(0.0, 0.0, 0.0, 0)
    return MidlineScores(
        next_word=sum(r.word_exact for r in results) / len(results),
        rest_exact=sum(r.line_exact for r in results) / len(results),
        edit_similarity=statistics.fmean(r.similarity for r in results),
        probes=len(results),
    )


def score(results: list[ProbeResult]) -> ModeScores:
    if not results:
        return ModeScores(0.0, 0.0, 0.0, 0)
    return ModeScores(
        exact_match=sum(r.exact for r in results) / len(results),
        edit_similarity=statistics.fmean(r.similarity for r in results),
        syntax_pass=sum(r.syntax_ok for r in results) / len(results),
        probes=len(results),
    )


def run_eval(cfg: EvalConfig, gen: Generator | None = None) -> EvalReport:
    if cfg.samples < 1:
        raise BashcoderError("--samples must be at least 1.")
    gen = gen or load_generator(cfg.model, cfg.device)
    gen.check_max_tokens(cfg.max_tokens, "--max-tokens")  # before the measuring, not after it
    ctx = gen.cfg.context_length
    stride = ctx // 2 if cfg.bpb_stride is None else cfg.bpb_stride
    if not 1 <= stride <= ctx:
        raise BashcoderError(
            f"--bpb-stride {stride} is outside 1..{ctx}, the model's context length; pass at most {ctx}."
        )
    label, texts = load_texts(cfg)
    raw = [t.text for t in texts]
    source_of = [t.source for t in texts]
    data = "\n".join(raw).encode("utf-8")
    bar = tqdm(total=len(raw), desc="bits per byte", unit="doc", leave=False)
    nll: dict[str, tuple[float, int]] = {}
    for src in sorted(set(source_of)):
        nll[src] = model_nll(gen, [t for t, s in zip(raw, source_of, strict=True) if s == src], bar, stride)
    bar.close()
    bpb = sum(n for n, _ in nll.values()) / math.log(2) / max(1, sum(b for _, b in nll.values()))
    parses = [bash_check(t).ok for t in tqdm(raw, desc="bash -n on sources", unit="doc", leave=False)]
    probes = sample_probes(raw, cfg.samples, cfg.seed, parses)
    mid_probes = sample_midline_probes(raw, cfg.samples, cfg.seed, parses)
    if not probes:
        raise BashcoderError("no line starts to sample: the texts have no script that passes bash -n.")
    rerank = RerankConfig() if cfg.rerank else None
    results: dict[str, list[ProbeResult]] = {m: [] for m in MODES}
    mid: dict[str, list[MidlineResult]] = {m: [] for m in MODES}
    bar = tqdm(total=(len(probes) + len(mid_probes)) * len(MODES), desc="probes", unit="probe", leave=False)
    for probe in probes:
        for mode in MODES:
            results[mode].append(run_probe(gen, probe, mode, cfg.max_tokens, rerank))
            bar.update(1)
    for mprobe in mid_probes:
        for mode in MODES:
            mid[mode].append(run_midline_probe(gen, mprobe, mode, cfg.max_tokens, rerank))
            bar.update(1)
    bar.close()
    added, checked = _shellcheck(raw, results["fim"], cfg.shellcheck_samples)
    examples = [
        {"prefix_tail": r.probe.prefix[-120:], "target": r.probe.target, "completion": r.completion}
        for r in results["fim"][:5]
    ]
    by_source = {}
    for src in sorted(set(source_of)):
        docs = [i for i, s in enumerate(source_of) if s == src]
        src_bytes = "\n".join(raw[i] for i in docs).encode("utf-8")
        by_source[src] = SourceScores(
            documents=len(docs),
            bytes=len(src_bytes),
            bpb=nll[src][0] / math.log(2) / max(1, nll[src][1]),
            xz_bpb=compressed_bpb(src_bytes, COMPRESSORS["xz -9e"]),
            modes={m: score([r for r in results[m] if source_of[r.probe.doc] == src]) for m in MODES},
            midline={m: score_midline([r for r in mid[m] if source_of[r.probe.doc] == src]) for m in MODES},
        )
    return EvalReport(
        model=str(gen.loaded.path),
        texts=label,
        documents=len(raw),
        bytes=len(data),
        bpb=bpb,
        bpb_stride=stride,
        baselines=baselines(data),
        modes={m: score(results[m]) for m in MODES},
        midline={m: score_midline(mid[m]) for m in MODES},
        by_source=by_source,
        shellcheck_added_per_completion=added,
        shellcheck_checked=checked,
        fim_reranked=cfg.rerank,
        hardware={
            "device": gen.plan.describe(),
            "cpu": cpu_model(),
            "python": platform.python_version(),
            "bashcoder": bashcoder.__version__,
        },
        examples=examples,
    )


def _shellcheck(texts: list[str], results: list[ProbeResult], limit: int) -> tuple[float | None, int]:
    if limit <= 0 or not shellcheck.available():
        return None, 0
    chosen = results[:limit]
    originals: dict[int, Counter[int]] = {}
    added = 0
    for r in tqdm(chosen, desc="shellcheck", unit="completion", leave=False):
        if r.probe.doc not in originals:
            originals[r.probe.doc] = shellcheck.findings(texts[r.probe.doc])
        edited = r.probe.prefix + r.completion + r.probe.rest
        added += shellcheck.added_findings(originals[r.probe.doc], edited)
    return added / max(1, len(chosen)), len(chosen)
