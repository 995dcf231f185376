"""Next-line completion inside a file, reranked by the next line (engine/rerank.py): which pool of
candidates, how much of the suffix to read, and what it costs a request.

Probes are `bashcoder-eval`'s: line starts drawn from the validation split's
scripts that pass `bash -n`, the rest of the file after the line (seeded).
For each probe it draws the greedy FIM line, `--samples` FIM samples, the
greedy left-to-right line and `--samples` left-to-right samples (temperature
0.8, top-p 0.95), scores every distinct line by log p(line + the next N lines
| prefix) (`rerank.suffix_scores`) for N in 0, 1, 2, 4, and prints the exact
match of the best line for each pool and N, beside the pool's oracle (any
line right).

Then the cost a user feels: `Completer.complete` at each probe's cursor after
one typed character (the KV caches warm from the request before, type-through
off), with and without reranking, with the server's 100 ms budget and without
one: p50/p95 ms and the exact match of the line shown.

Usage: python bench/fim_rerank.py --data DIR [--model DIR] [--probes 300] [--seed 0] [--samples 4]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from tqdm import tqdm

from bashcoder.engine.completer import Completer, CompletionRequest
from bashcoder.engine.device import cpu_model
from bashcoder.engine.generate import SamplingConfig
from bashcoder.engine.loader import load_generator
from bashcoder.engine.rerank import RerankConfig, left_to_right_lines, suffix_scores
from bashcoder.engine.stops import StopRule
from bashcoder.engine.syntax import bash_check
from bashcoder.trainer.quality.nextline import first_line, sample_probes
from bashcoder.trainer.quality.texts import validation_texts

HEADS = (0, 1, 2, 4)
POOLS = {
    "FIM greedy + left-to-right greedy": {"fg", "lg"},
    "FIM greedy + samples": {"fg", "fs"},
    "left-to-right greedy + samples": {"lg", "ls"},
    "FIM greedy, left-to-right greedy + samples (served)": {"fg", "lg", "ls"},
    "all four": {"fg", "fs", "lg", "ls"},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the corpus directory (its validation split)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=64)
    args = ap.parse_args()
    gen = load_generator(args.model)
    texts = [t.text for t in validation_texts(args.data, 0.05)]
    parses = [bash_check(t).ok for t in texts]
    probes = sample_probes(texts, args.probes, args.seed, parses)
    stop, n = StopRule("line"), len(probes)
    cfg = RerankConfig(samples=args.samples)
    greedy = SamplingConfig(temperature=0, max_tokens=args.max_tokens)
    fim_samples = SamplingConfig(
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_tokens=args.max_tokens,
        num_candidates=args.samples,
        seed=0,
    )
    right = {(pool, h): 0 for pool in POOLS for h in HEADS}
    oracle = dict.fromkeys(POOLS, 0)
    greedy_right = 0
    for p in tqdm(probes, desc="pools", unit="probe"):
        ltr = left_to_right_lines(gen, p.prefix, stop, args.max_tokens, cfg)
        drawn = [
            ("fg", gen.complete(p.prefix, p.rest, greedy, stop)[0]),
            *(("fs", c) for c in gen.complete(p.prefix, p.rest, fim_samples, stop)),
            ("lg", ltr[0]),
            *(("ls", c) for c in ltr[1:]),
        ]
        tagged: dict[str, set[str]] = {}
        for tag, cand in drawn:
            tagged.setdefault(first_line(cand.text).rstrip(), set()).add(tag)
        lines, target = list(tagged), p.target.rstrip()
        greedy_right += any(line == target and "fg" in tags for line, tags in tagged.items())
        scores = {h: suffix_scores(gen, p.prefix, p.rest, lines, args.max_tokens, h) for h in HEADS}
        for pool, tags in POOLS.items():
            inside = [i for i, line in enumerate(lines) if tagged[line] & tags]
            oracle[pool] += any(lines[i] == target for i in inside)
            for h in HEADS:
                best = max(inside, key=scores[h].__getitem__)
                right[pool, h] += lines[best] == target

    print(
        f"CPU: {cpu_model()}; model: {gen.loaded.path}; {n} probes, seed {args.seed}, {args.samples} samples"
    )
    print(f"greedy FIM line alone: {100 * greedy_right / n:.1f}% exact")
    print(f"{'pool':52} {'oracle':>7} " + " ".join(f"{f'next {h}':>7}" for h in HEADS))
    for pool in POOLS:
        cells = " ".join(f"{100 * right[pool, h] / n:6.1f}%" for h in HEADS)
        print(f"{pool:52} {100 * oracle[pool] / n:6.1f}% {cells}")

    print("\nrequest latency at a cursor inside a file (one character typed, caches warm, type-through off)")
    print(f"{'':28} {'p50 ms':>7} {'p95 ms':>7} {'exact':>7}")
    sampling = SamplingConfig(temperature=0, max_tokens=args.max_tokens)
    for budget in (100, 0):
        for rerank in (None, cfg):
            comp, ms, exact, typed = Completer(gen), [], 0, 0
            for p in tqdm(
                probes, desc=f"budget {budget} rerank {rerank is not None}", unit="probe", leave=False
            ):
                if not p.target.strip():
                    continue
                ask = {"mode": "line", "sampling": sampling, "check_syntax": False, "time_budget_ms": budget}
                req = CompletionRequest(p.prefix, p.rest, rerank=rerank, **ask)
                comp.complete(req)  # the cursor as it was: warms both caches
                comp.forget()
                char = p.target[0]
                start = time.perf_counter()
                req = CompletionRequest(p.prefix + char, p.rest, rerank=rerank, started=start, **ask)
                shown = comp.complete(req)
                ms.append(1000 * (time.perf_counter() - start))
                exact += bool(shown) and (char + shown[0].text).rstrip() == p.target.rstrip()
                typed += 1
                comp.forget()
            q = statistics.quantiles(ms, n=20)
            label = f"budget {budget or 'none'}, {'reranked' if rerank else 'FIM line'}"
            print(f"{label:28} {statistics.median(ms):7.1f} {q[18]:7.1f} {100 * exact / typed:6.1f}%")


if __name__ == "__main__":
    main()
