"""Keystroke-to-suggestion latency of `bashcoder-repl`, p50/p95, on this machine.

Drives the real REPL (PromptSession on a pipe input, DummyOutput: everything
but the terminal's own drawing) and types realistic commands one key at a
time. For each key it measures the time from the key being sent to the
suggestion for the new text being set on the buffer (or the suggester
settling on "nothing"), waiting for each before the next key.

Without --model it builds the tiny configuration with random weights and a
BPE tokenizer trained on local shell scripts. That is honest for latency,
but random weights rarely hit a stop rule, so every model suggestion runs to
--max-tokens (a worst case), and they never match what is typed, so the
type-through path is rarely exercised; a trained model is faster on both.

    .venv/bin/python bench/repl_latency.py [--model DIR] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from bashcoder.engine.checkpoint import save_model_dir
from bashcoder.engine.config import preset
from bashcoder.engine.device import cpu_model
from bashcoder.engine.model import build_model
from bashcoder.engine.tokenizer import train_tokenizer
from bashcoder.repl.app import Repl
from bashcoder.repl.assistant import Assistant, load
from bashcoder.repl.config import ReplConfig, Settings
from bashcoder.repl.printing import list_echo
from bashcoder.repl.runner import Shell

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = [
    "git status",
    "ls -la /var/log",
    "find . -name '*.py' | xargs wc -l",
    "tar -czf backup.tar.gz src/",
    "grep -rn TODO --include=*.sh .",
    "for f in *.txt; do echo $f; done",
    "du -sh * | sort -h",
    "docker ps -a --format '{{.Names}}'",
]
SCRIPT_DIRS = ("/usr/bin", "/usr/sbin", "/etc", "/usr/share", "/usr/lib")


def local_shell_scripts(limit_bytes: int = 3_000_000, per_file: int = 200_000) -> list[str]:
    """The fixture scripts plus shell scripts found on this machine (for a realistic vocabulary)."""
    texts = [
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "fixtures" / "scripts").glob("*.sh"))
    ]
    total = sum(map(len, texts))
    for top in SCRIPT_DIRS:
        for path in sorted(Path(top).rglob("*")):
            if total >= limit_bytes:
                return texts
            try:
                if not path.is_file() or path.stat().st_size > per_file:
                    continue
                with path.open("rb") as fh:
                    if fh.read(2) != b"#!":
                        continue
                    raw = b"#!" + fh.read()
                text = raw.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if text.split("\n", 1)[0].rstrip().endswith(("/sh", "/bash", "env bash", "env sh")):
                texts.append(text)
                total += len(text)
    return texts


def random_tiny(directory: Path) -> Path:
    texts = local_shell_scripts()
    tokenizer = train_tokenizer(texts, vocab_size=8192)
    model = build_model(preset("tiny", vocab_size=tokenizer.vocab_size), seed=0).eval()
    return save_model_dir(
        directory / "tiny-random", model, tokenizer, card="random weights, for latency only"
    )


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


async def measure(assistant: Assistant, work: Path, pause: float) -> list[tuple[float, str]]:
    """(milliseconds, how) per keystroke; how is 'kept', 'cached' or 'model'."""
    samples: list[tuple[float, str]] = []
    with create_pipe_input() as inp:
        repl = Repl(
            assistant,
            ReplConfig(execute=False, settings=assistant.settings),
            shell=Shell(cwd=work),
            input=inp,
            output=DummyOutput(),
            echo=list_echo([]),
            history=InMemoryHistory([c + "  # earlier" for c in COMMANDS[:3]]),
        )
        buf = repl.session.default_buffer
        events: dict[str, tuple[float, str]] = {}
        settled = asyncio.Event()

        def on_set(b: object) -> None:
            latency = assistant.last_latency
            events[buf.text] = (time.perf_counter(), "cached" if latency and latency.cached else "model")
            settled.set()

        def on_insert(b: object) -> None:  # runs after the keeper, in the same keystroke
            if buf.suggestion is not None and buf.text not in events:
                events[buf.text] = (time.perf_counter(), "kept")
                settled.set()

        buf.on_suggestion_set += on_set
        buf.on_text_insert += on_insert
        for n, cmd in enumerate(COMMANDS):
            task = asyncio.ensure_future(repl.read())
            await asyncio.sleep(0.05)
            for i, ch in enumerate(cmd):
                text = cmd[: i + 1]
                events.pop(text, None)
                settled.clear()
                sent = time.perf_counter()
                inp.send_text(ch)
                deadline = sent + 30
                while text not in events:
                    try:
                        await asyncio.wait_for(settled.wait(), max(0.001, deadline - time.perf_counter()))
                    except asyncio.TimeoutError:
                        raise SystemExit(f"no suggestion event for {text!r} within 30 s") from None
                    settled.clear()
                shown, how = events[text]
                if n > 0 or i >= 3:  # the first keys warm up torch
                    samples.append(((shown - sent) * 1000, how))
                await asyncio.sleep(pause)
            repl.session.app.exit(result="")
            await task
    return samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="A trained model directory (default: tiny with random weights).")
    ap.add_argument("--cache", type=Path, help="Keep the random tiny model here between runs.")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--max-tokens", type=int, default=Settings.max_tokens)
    ap.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's, one per core)."
    )
    ap.add_argument(
        "--pause-ms", type=float, default=20.0, help="Pause after each suggestion before the next key."
    )
    ap.add_argument(
        "--time-budget-ms",
        type=int,
        default=Settings.time_budget_ms,
        help="Ghost text time budget (default: the REPL's, 100; 0 = whole answers).",
    )
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model_dir = Path(args.model)
        elif args.cache and (args.cache / "tiny-random" / "config.json").is_file():
            model_dir = args.cache / "tiny-random"
        else:
            model_dir = random_tiny(args.cache or Path(tmp))
        generator = load(model_dir, args.device)
        settings = Settings(  # the model's latency: no history answers, no history read
            temperature=0.2,
            max_tokens=args.max_tokens,
            time_budget_ms=args.time_budget_ms,
            seed=0,
            suggest="model",
            history=False,
        )
        assistant = Assistant(generator, settings)
        work = Path(tmp) / "project"
        (work / "src").mkdir(parents=True)
        for name in ("README.md", "Makefile", "notes.txt", "setup.sh"):
            (work / name).write_text("")
        samples = asyncio.run(measure(assistant, work, args.pause_ms / 1000))

    cfg = generator.cfg
    print(f"cpu: {cpu_model()}  (torch {torch.__version__}, {torch.get_num_threads()} threads)")
    print(f"device: {generator.plan.describe()}")
    weights = f"{model_dir}" if args.model else "tiny, random weights"
    print(
        f"model: {weights}: {cfg.n_layer} layers, width {cfg.n_embd}, context {cfg.context_length}, "
        f"vocab {cfg.vocab_size}, {generator.model.num_params() / 1e6:.1f}M parameters"
    )
    print(
        f"settings: max_tokens {settings.max_tokens}, mode {settings.mode}, temperature {settings.temperature},"
        f" time budget {settings.time_budget_ms} ms"
    )
    print(f"keystrokes: {len(samples)} over {len(COMMANDS)} commands")
    groups = {"all": [ms for ms, _ in samples]}
    for how in ("model", "cached", "kept"):
        values = [ms for ms, h in samples if h == how]
        if values:
            groups[how] = values
    print(f"{'keystroke -> suggestion':<26}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for name, values in groups.items():
        print(
            f"  {name:<24}{len(values):>5}{pct(values, 50):>10.1f}{pct(values, 95):>10.1f}{statistics.mean(values):>10.1f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
