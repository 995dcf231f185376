"""Scrub a real corpus with the scrubber before and after a change: replacements per kind, speed, samples.

    .venv/bin/python bench/scrub_corpus.py [--data data] [--before 4260564] [--sample 30]

Reads corpus.jsonl (field "text") and the collector's manifest beside it. The
corpus was scrubbed when it was collected, so "before" (the scrubber at git
revision --before, loaded with `git show`) finds only what a rerun finds,
"after" (the working tree) finds what the change adds, and the manifest shows
what the collector replaced in the raw input. Prints a table of replacements
per kind, the time and throughput of each full pass, whether a second pass of
the new scrubber changes anything (it must not), and --sample replaced lines,
drawn with a fixed seed, for review by hand.
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import subprocess
import sys
import time
import types
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bashcoder.engine.device import cpu_model
from bashcoder.trainer.collect.secrets import Scrubbed, scrub

ROOT = Path(__file__).resolve().parents[1]
SECRETS = "bashcoder/trainer/collect/secrets.py"


def load_scrubber(revision: str) -> Callable[[str], Scrubbed]:
    """`scrub` as it was at `revision` (that version imports nothing of ours)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:{SECRETS}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType("secrets_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{revision}:{SECRETS}", "exec"), module.__dict__)  # noqa: S102 (our own file)
    return module.scrub


def run(fn: Callable[[str], Scrubbed], texts: list[str]) -> tuple[Counter[str], list[str], float]:
    """Counts per kind, the scrubbed texts, and the seconds the pass took."""
    counts: Counter[str] = Counter()
    out = []
    start = time.perf_counter()
    for text in texts:
        result = fn(text)
        counts.update(result.counts)
        out.append(result.text)
    return counts, out, time.perf_counter() - start


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """(old line, new line) for each replaced line."""
    a, b = before.split("\n"), after.split("\n")
    if len(a) == len(b):
        return [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    pairs = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            pairs.append(("\n".join(a[i1:i2]), "\n".join(b[j1:j2])))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT / "data", help="directory with corpus.jsonl")
    parser.add_argument("--before", default="4260564", help="git revision of the scrubber to compare with")
    parser.add_argument("--sample", type=int, default=30, help="replaced lines to print for review")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    records = [json.loads(line) for line in (args.data / "corpus.jsonl").open(encoding="utf-8")]
    texts = [r["text"] for r in records]
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    manifest_path = args.data / "manifest.json"
    manifest = json.loads(manifest_path.read_text()).get("secrets", {}) if manifest_path.is_file() else {}

    old_counts, _, old_s = run(load_scrubber(args.before), texts)
    new_counts, new_texts, new_s = run(scrub, texts)
    changed = [i for i, (t, n) in enumerate(zip(texts, new_texts, strict=True)) if t != n]
    # Unchanged texts are their own second pass; only the changed ones need one.
    again = sum(1 for i in changed if scrub(new_texts[i]).text != new_texts[i])

    print(
        f"corpus: {args.data / 'corpus.jsonl'}: {len(texts):,} records, {megabytes:.1f} MB; CPU: {cpu_model()}"
    )
    print(f"{'kind':36} {'manifest (raw)':>14} {'before':>8} {'after':>8}")
    for kind in sorted(set(manifest) | set(old_counts) | set(new_counts)):
        print(f"{kind:36} {manifest.get(kind, 0):>14,} {old_counts[kind]:>8,} {new_counts[kind]:>8,}")
    total = sum(manifest.values()), sum(old_counts.values()), sum(new_counts.values())
    print(f"{'total':36} {total[0]:>14,} {total[1]:>8,} {total[2]:>8,}")
    for name, seconds in (("before", old_s), ("after", new_s)):
        print(f"{name}: {seconds:.1f} s for the corpus, {megabytes / seconds:.2f} MB/s")
    print(f"records changed by the new scrubber: {len(changed):,}; changed again by a second pass: {again}")

    replaced = [
        (records[i].get("path", "?"), old, new)
        for i in changed
        for old, new in changed_lines(texts[i], new_texts[i])
    ]
    rng = random.Random(args.seed)
    for path, old, new in rng.sample(replaced, min(args.sample, len(replaced))):
        print(f"\n{path}\n  - {old.strip()[:200]}\n  + {new.strip()[:200]}")


if __name__ == "__main__":
    main()
