"""Does the REPL's file-list context help the model? Next-word accuracy with and without it.

The REPL's prompt starts with `# in DIR: file1 file2 ...` (`repl/context.py`).
This replays held-out command lines (validation groups of a prepared corpus,
never trained on) through the REPL's own suggestion call, each cut before
one word, and counts the suggestions whose first word is that word:

- lines: command lines cut after a random word, the directory being this
  repository's root (files unrelated to the line), as a user in a project;
- files: lines whose next word is a file name (`cat notes.txt`), the directory
  holding that file among 25 others drawn from the other lines, so the list
  holds the answer.

Each is run with the file list and with only `# in DIR`. Greedy decoding,
no time budget, so the figure is what the suggestions say.

    .venv/bin/python bench/repl_context.py --data DIR_WITH_CORPUS_AND_PREPARED [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

from bashcoder.engine.device import cpu_model
from bashcoder.repl.assistant import Assistant, load
from bashcoder.repl.config import Settings
from bashcoder.repl.context import build_context, list_files

ROOT = Path(__file__).resolve().parent.parent
FILE = re.compile(r"^[A-Za-z0-9_][\w-]*\.[A-Za-z][\w.]*$")


def held_out_lines(data: Path) -> dict[str, list[str]]:
    """Command lines (no comments, 3+ words, <= 120 chars) of the validation groups, per source."""
    metas = sorted((data / "prepared").glob("*/meta.json"))
    if not metas:
        raise SystemExit(
            f"{data}/prepared holds no prepared corpus; run bashcoder-train --data {data} first."
        )
    val = set(json.loads(metas[0].read_text())["val_groups"])
    lines: dict[str, list[str]] = {}
    with (data / "corpus.jsonl").open(encoding="utf-8") as fh:
        for raw in fh:
            rec = json.loads(raw)
            if rec["group"] not in val:
                continue
            for line in rec["text"].split("\n"):
                s = line.strip()
                if s and not s.startswith("#") and len(s.split()) >= 3 and len(s) <= 120:
                    lines.setdefault(rec["source"], []).append(s)
    return lines


def next_word(assistant: Assistant, context: str, typed: str) -> str:
    assistant.context = context
    assistant.ghost.forget()
    got = assistant.suggest(typed, timed=False)
    return (got.text.split() or [""])[0] if got else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="a corpus directory with its prepared/ files")
    ap.add_argument("--model", default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lines = held_out_lines(args.data)
    cut_lines = []
    for source, n in (("git", 300), ("docs", 200)):
        for s in rng.sample(lines.get(source, []), min(n, len(lines.get(source, [])))):
            w = s.split()
            k = rng.randint(1, len(w) - 1)
            cut_lines.append((source, " ".join(w[:k]) + " ", w[k]))
    file_lines = []
    for s in [s for v in lines.values() for s in v]:
        w = s.split()
        k = next((i for i in range(1, len(w)) if FILE.match(w[i])), None)
        if k is not None and not FILE.match(w[0]):
            file_lines.append((" ".join(w[:k]) + " ", w[k]))
    file_lines = rng.sample(file_lines, min(200, len(file_lines)))
    names = [want for _, want in file_lines]
    repo_files = list_files(ROOT, 40)  # the REPL's list size before it was turned off
    assistant = Assistant(load(args.model, "cpu"), Settings(seed=args.seed, temperature=0, time_budget_ms=0))
    print(f"cpu: {cpu_model()}; {len(cut_lines)} cut lines, {len(file_lines)} lines ending in a file name")
    print(f"{'context':10} {'lines: git':>11} {'lines: docs':>12} {'files':>7} {'s':>5}")
    for variant in ("file list", "dir only"):
        t0 = time.perf_counter()
        hits: dict[str, list[bool]] = {}
        for source, typed, want in cut_lines:
            ctx = build_context(ROOT.name, repo_files if variant == "file list" else [], [])
            hits.setdefault(source, []).append(next_word(assistant, ctx, typed) == want)
        for i, (typed, want) in enumerate(file_lines):
            others = random.Random(i).sample([n for n in names if n != want], min(25, len(names) - 1))
            ctx = build_context("project", sorted([*others, want]) if variant == "file list" else [], [])
            hits.setdefault("files", []).append(next_word(assistant, ctx, typed) == want)

        pct = {k: f"{100 * sum(v) / len(v):.1f}%" for k, v in hits.items() if v}
        print(
            f"{variant:10} {pct.get('git', '-'):>11} {pct.get('docs', '-'):>12} {pct.get('files', '-'):>7} "
            f"{time.perf_counter() - t0:5.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
