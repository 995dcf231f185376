"""History, the model, or both: the share of typed characters a user could have accepted from the ghost text.

Replays a realistic terminal session through the REPL's own suggestion code
(`repl.sources.first_suggestion`, the same call the ghost text makes; the
model's prompt is built as the REPL builds it, from the last
`--context-commands` commands). Both parts come from real command lines: the
documentation examples in the collected corpus (records with source "docs":
tldr pages and man-page EXAMPLES). The CPU-trained model the README's table
was measured with never trained on them; the GPU-trained model shipped since
trained on the documentation examples outside the validation split, so on it
the model rows overstate what it does on commands it has not seen).

The session: a user who works with a few dozen tools. Tools (a command's
first word, after sudo) are drawn at random; each tool's examples are split
into a history part and a typed part, so every typed command is new (never
in the history, checked) but its tool and its habits are not. Both parts are
ordered in bursts of 1-5 commands of one tool, as real sessions run. The
history (>= 1,000 commands) is the shell history file; the typed commands
(>= 200) are typed one character at a time, each joining the history once
entered, as in the REPL.

At every character the suggester is asked for ghost text; a user who sees
it accept as much as is right: the whole first line when the command goes
on that way (→), else as many whole words as match (Alt-F, the REPL's own
word rule). The figure is accepted characters / characters of the typed
commands. The model samples with the REPL's defaults (temperature, top-k,
top-p, max tokens, auto mode) and a fixed seed, without the 100 ms time
budget, so the figure measures what the suggestions say, not how fast this
machine is (the mean time per answer is reported beside it).

    .venv/bin/python bench/repl_history.py [--model DIR] [--typed 240] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from bashcoder.engine.device import cpu_model
from bashcoder.repl.assistant import Assistant, load
from bashcoder.repl.config import ReplConfig, Settings
from bashcoder.repl.context import build_context
from bashcoder.repl.keys import next_word
from bashcoder.repl.recall import Recall
from bashcoder.repl.sources import Sourced, first_suggestion

ROOT = Path(__file__).resolve().parent.parent
MAX_PER_TOOL = 40
"""No tool's examples dominate the session (git alone has ~800)."""
MIN_PER_TOOL = 6
"""Tools with fewer examples are left out: a user's tools recur."""

RUNS: dict[str, tuple[str, str, bool]] = {
    "history": ("history only (`--suggest history`)", "history", True),
    "bare-model": ("model only, no history in its prompt (`--suggest model --no-history`)", "model", False),
    "model": ("model only, history in its prompt (`--suggest model`)", "model", True),
    "both": ("history, then model (`--suggest history,model`, the default)", "history,model", True),
}
"""Run id -> (row label, Settings.suggest, Settings.history)."""


# ---- the session ---------------------------------------------------------


def command_lines(corpus: Path) -> list[str]:
    """Distinct one-line commands from the corpus's documentation examples."""
    seen: dict[str, None] = {}
    with corpus.open(encoding="utf-8") as fh:
        for raw in fh:
            record = json.loads(raw)
            if record.get("source") != "docs":
                continue
            for line in record["text"].splitlines():
                s = line.strip()
                if 4 <= len(s) <= 160 and not s.startswith("#") and not s.endswith("\\") and s.isprintable():
                    seen[s] = None
    return list(seen)


def tool_of(command: str) -> str:
    """The program a command line runs: its first word, after `sudo`."""
    words = command.split()
    return words[1] if words[0] == "sudo" and len(words) > 1 else words[0]


def bursts(by_tool: dict[str, list[str]], rng: random.Random) -> list[str]:
    """The commands in runs of 1-5 of one tool, the runs shuffled (how a working session reads)."""
    runs: list[list[str]] = []
    for cmds in by_tool.values():
        i = 0
        while i < len(cmds):
            n = rng.randint(1, 5)
            runs.append(cmds[i : i + n])
            i += n
    rng.shuffle(runs)
    return [c for run in runs for c in run]


def build_session(
    lines: Iterable[str], history_size: int, typed_count: int, seed: int = 0
) -> tuple[list[str], list[str]]:
    """(history, typed): disjoint real command lines sharing tools, history oldest first."""
    rng = random.Random(seed)
    tools: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        tools[tool_of(line)].append(line)
    names = sorted(t for t, cmds in tools.items() if len(cmds) >= MIN_PER_TOOL)
    rng.shuffle(names)
    share = typed_count / (history_size + typed_count)
    hist_by: dict[str, list[str]] = {}
    typed_by: dict[str, list[str]] = {}
    n_hist = n_typed = 0
    for name in names:
        if n_hist >= history_size and n_typed >= typed_count:
            break
        cmds = sorted(tools[name])
        rng.shuffle(cmds)
        cmds = cmds[:MAX_PER_TOOL]
        k = max(1, round(len(cmds) * share))
        typed_by[name], hist_by[name] = cmds[:k], cmds[k:]
        n_typed += k
        n_hist += len(cmds) - k
    history, typed = bursts(hist_by, rng), bursts(typed_by, rng)[:typed_count]
    if len(history) < history_size or len(typed) < typed_count:
        raise SystemExit(f"the corpus gave {len(history)} history and {len(typed)} typed commands; need more")
    assert not set(history) & set(typed), "a typed command is in the history"
    return history, typed


# ---- typing ----------------------------------------------------------------


@dataclass
class Tally:
    """What typing some commands came to."""

    chars: int = 0
    """Characters of the commands."""
    accepted: int = 0
    """Characters taken from ghost text instead of typed."""
    asked: int = 0
    """Suggestions asked for (one per position reached)."""
    from_history: int = 0
    """Suggestions shown from the history."""
    from_model: int = 0
    """Suggestions shown from the model."""
    seconds: float = 0.0
    """Time spent answering."""

    @property
    def share(self) -> float:
        return self.accepted / self.chars if self.chars else 0.0

    def add(self, other: Tally) -> None:
        for name in ("chars", "accepted", "asked", "from_history", "from_model", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def acceptable(suggestion: str, rest: str) -> str:
    """The part of `suggestion` a user typing toward `rest` could take: its whole first line if right,
    else its leading whole words that are right (the REPL's Alt-F steps)."""
    line = suggestion.split("\n", 1)[0]
    if line and rest.startswith(line):
        return line
    taken = ""
    while True:
        word = next_word(suggestion[len(taken) :])
        if not word or not rest.startswith(taken + word) or "\n" in word:
            return taken
        taken += word


def type_command(target: str, suggest: Callable[[str], Sourced | None]) -> Tally:
    """Type `target` one character at a time, accepting whatever right ghost text `suggest(typed)` offers."""
    tally = Tally(chars=len(target))
    typed = ""
    while typed != target:
        if typed.strip():
            start = time.perf_counter()
            found = suggest(typed)
            tally.seconds += time.perf_counter() - start
            tally.asked += 1
            if found is not None and found.text:
                tally.from_history += found.source == "history"
                tally.from_model += found.source == "model"
                take = acceptable(found.text, target[len(typed) :])
                if take:
                    typed += take
                    tally.accepted += len(take)
                    continue
        typed += target[len(typed)]
    return tally


def replay(
    assistant: Assistant,
    history: list[str],
    typed: list[str],
    suggest: str,
    use_history: bool,
    context_commands: int,
    progress: Callable[[int, Tally], None] | None = None,
) -> Tally:
    """Type every command of `typed` after `history` with the strategy `suggest`, as the REPL would."""
    base = assistant.settings
    assistant.settings = replace(base, suggest=suggest, history=use_history)
    session: list[str] = []
    recall = Recall(lambda: history, lambda: session)
    total = Tally()
    try:
        for n, target in enumerate(typed):
            recent = recall.recent(context_commands) if use_history else session[-context_commands:]
            assistant.context = build_context("project", [], recent)  # once per prompt, as Repl.read does
            assistant.ghost.forget()
            source = recall if use_history else None
            total.add(
                type_command(
                    target, lambda text, r=source: first_suggestion(assistant, r, text, "", None, timed=False)
                )
            )
            session.append(target)
            if progress is not None:
                progress(n + 1, total)
    finally:
        assistant.settings = base
    return total


# ---- the report --------------------------------------------------------------


def table(rows: dict[str, Tally]) -> str:
    lines = [
        "| suggestions | accepted / typed characters | shown from history / model | ms per answer |",
        "|---|---|---|---|",
    ]
    for name, t in rows.items():
        ms = 1000 * t.seconds / t.asked if t.asked else 0.0
        lines.append(
            f"| {name} | **{100 * t.share:.1f}%** ({t.accepted:,} / {t.chars:,}) "
            f"| {t.from_history:,} / {t.from_model:,} | {ms:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="Model directory (default: $BASHCODER_MODEL, then the shipped model).")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus.jsonl")
    ap.add_argument(
        "--history", type=int, default=1000, help="Commands in the history (>= 1000 for the README)."
    )
    ap.add_argument("--typed", type=int, default=240, help="Commands typed (>= 200 for the README).")
    ap.add_argument("--context-commands", type=int, default=ReplConfig.context_commands)
    ap.add_argument("--seed", type=int, default=0, help="Draws the session and seeds the model's sampling.")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on busy cores).")
    ap.add_argument("--runs", default=",".join(RUNS), help=f"Comma-separated runs, of {', '.join(RUNS)}.")
    ap.add_argument("--json", type=Path, help="Also write the figures here.")
    ap.add_argument(
        "--temperature", type=float, default=Settings.temperature, help="Ghost text's (default: the REPL's)."
    )
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    history, typed = build_session(command_lines(args.corpus), args.history, args.typed, args.seed)
    generator = load(args.model, args.device)
    assistant = Assistant(generator, Settings(seed=args.seed, time_budget_ms=0, temperature=args.temperature))
    print(f"cpu: {cpu_model()}  (torch {torch.__version__}, {torch.get_num_threads()} threads)")
    print(f"device: {generator.plan.describe()}")
    print(
        f"temperature {args.temperature}; session: {len(history):,} history commands, {len(typed):,} typed "
        f"({sum(map(len, typed)):,} characters) from {args.corpus.name}, seed {args.seed}"
    )
    rows: dict[str, Tally] = {}
    for run in [r.strip() for r in args.runs.split(",") if r.strip()]:
        name, suggest, use_history = RUNS[run]
        started = time.perf_counter()

        def progress(n: int, t: Tally, name: str = name) -> None:
            if n % 20 == 0:
                print(
                    f"  {name}: {n}/{len(typed)} commands, {100 * t.share:.1f}%", file=sys.stderr, flush=True
                )

        rows[name] = replay(assistant, history, typed, suggest, use_history, args.context_commands, progress)
        print(f"{name}: {100 * rows[name].share:.1f}% in {time.perf_counter() - started:.0f} s", flush=True)
    print()
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps({k: asdict(v) for k, v in rows.items()}, indent=2))


if __name__ == "__main__":
    main()
