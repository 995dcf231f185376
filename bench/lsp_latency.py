"""Keystroke-to-suggestion latency of bashcoder-lsp, replaying the typing of a real script.

The real server runs as a subprocess over stdio, as an editor starts it. The
benchmark opens an empty document and types bench/data/backup_rotate.sh (197
lines) into it, one character per didChange, asking textDocument/inlineCompletion
after each keystroke and waiting for the answer (the editor's ghost text). A
keystroke's latency runs from sending its didChange to receiving the answer.
By default every character of the script is typed and measured (~4,800
keystrokes, a few minutes a run); `--max-keystrokes N` types only every k-th
line character by character and pastes the lines in between whole, unmeasured,
for a quick look (the pastes make the window slide far more often per measured
keystroke, so that mode overstates the tail).

It prints p50/p95 over the keystrokes after which a suggestion is shown (and
over all keystrokes), with the KV cache of the previous prompt reused and with
it switched off (`bashcoder-lsp --no-prefix-cache`), in line mode (`--mode
line`, as the 14.3-character baseline was measured) or another (`--mode auto`,
the server's default: a block on an empty line and at the end of a line that
opens a compound, else a line; the keystrokes at a line's start and mid-line
are then also reported apart), under
the server's default time budget (`timeBudgetMs`, 100 ms: past it a suggestion
is the start of its line) and, for comparison, without one (whole lines); the
mean length of what is shown says what the budget costs, and the mean
number of its first characters that the script goes on to say (and the share
of suggestions that are right to their end) says what the length is worth; the
cold first request (a freshly opened 197-line file, completed in its middle:
the whole prompt is prefilled); the share of keystrokes answered by
type-through; and the share left without a suggestion.

The model is the one users get: the shipped `tiny` (bashcoder/models/tiny), or
`--model DIR`. `--random` measures a random-weight tiny instead (with a
tokenizer trained on the script and the test fixtures): it never ends its line,
so every model answer decodes `--max-tokens` tokens (16, about a line of bash),
an upper bound for line completions, and type-through almost never applies.

Usage: python bench/lsp_latency.py [--model DIR] [--max-keystrokes N] [--max-tokens 16] [--candidates 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bashcoder.engine.checkpoint import read_config, save_model_dir
from bashcoder.engine.config import preset
from bashcoder.engine.device import cpu_model
from bashcoder.engine.generate import SamplingConfig
from bashcoder.engine.knobs import MODES
from bashcoder.engine.loader import load_generator
from bashcoder.engine.model import build_model
from bashcoder.engine.syntax import bash_check
from bashcoder.engine.tokenizer import train_tokenizer
from bashcoder.server.service import reset_prefix_cache
from bashcoder.server.settings import ServerSettings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test client drives the server here too
from lsp_harness import ServerProcess, change_params, inline_params  # noqa: E402

SCRIPT = ROOT / "bench" / "data" / "backup_rotate.sh"
FIXTURES = ROOT / "tests" / "fixtures" / "scripts"
LSP_BIN = Path(sys.executable).with_name("bashcoder-lsp")
SHIPPED = ROOT / "bashcoder" / "models" / "tiny"
TARGETS = {"p50": 30.0, "p95": 120.0, "cold": 300.0}
COLD_SAMPLES = 5


@dataclass(frozen=True)
class Step:
    """One change to the document: a typed character (measured) or a pasted line (not)."""

    line: int
    character: int
    text: str
    typed: bool


@dataclass
class Run:
    name: str
    latencies: list[float]
    """ms per typed keystroke."""
    shown: list[int]
    """Characters of the first suggestion after each typed keystroke (0: none came back)."""
    right: list[int]
    """Of those, how many match what the script goes on to say (their common prefix)."""
    line_start: list[bool]
    """Whether the cursor's line held nothing but indentation before the cursor (where auto asks a block)."""
    type_through: int
    cold_ms: list[float]
    """First request on each of a few freshly opened files (the whole prompt is prefilled)."""
    ready_s: float


def build_tiny(out: Path, script: str) -> Path:
    """A random-weight tiny model with a BPE tokenizer trained on bash we have at hand."""
    texts = [script, *(p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.sh")))]
    tokenizer = train_tokenizer(texts * 4, vocab_size=8192)
    model = build_model(preset("tiny", tokenizer.vocab_size), seed=0)
    return save_model_dir(out / "tiny-random", model, tokenizer)


def plan_typing(script: str, max_keystrokes: int) -> list[Step]:
    """Type every n-th line character by character, paste the others, top to bottom."""
    lines = script.splitlines(keepends=True)
    stride = max(1, -(-len(script) // max_keystrokes)) if max_keystrokes > 0 else 1
    steps: list[Step] = []
    for i, line in enumerate(lines):
        if i % stride == 0:
            steps += [Step(i, j, ch, True) for j, ch in enumerate(line)]
        else:
            steps.append(Step(i, 0, line, False))
    return steps


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix of `a` and `b`."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def replay(
    server: ServerProcess, uri: str, steps: list[Step], script: str
) -> tuple[list[float], list[int], list[int], list[bool]]:
    """Latency (ms), characters shown, characters right (matching the rest of `script`) and whether the
    cursor is at its line's start (only indentation before it) per typed keystroke."""
    client = server.client
    latencies: list[float] = []
    shown: list[int] = []
    right: list[int] = []
    line_start: list[bool] = []
    lines = script.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    async def keystroke(step: Step, version: int) -> tuple[float, str]:
        at = (step.line, step.character)
        started = time.perf_counter()
        client.text_document_did_change(change_params(uri, version, [(at, at, step.text)]))
        end = (step.line, step.character + 1) if step.text != "\n" else (step.line + 1, 0)
        result = await client.text_document_inline_completion_async(inline_params(uri, *end))
        ms = (time.perf_counter() - started) * 1000
        return ms, str(result.items[0].insert_text) if result and result.items else ""

    for version, step in enumerate(steps, start=2):
        if step.typed:
            ms, text = server.run(lambda s=step, v=version: keystroke(s, v))
            latencies.append(ms)
            shown.append(len(text))
            right.append(common_prefix(text, script[starts[step.line] + step.character + 1 :]))
            line_start.append(step.text == "\n" or not lines[step.line][: step.character + 1].strip())
        else:
            at = (step.line, step.character)
            server.change(uri, version, [(at, at, step.text)])
    return latencies, shown, right, line_start


def measure(
    name: str, model: Path, settings: dict[str, object], steps: list[Step], script: str, extra: list[str]
) -> Run:
    started = time.perf_counter()
    server = ServerProcess([str(LSP_BIN), "-v", "--model", str(model), *extra])
    try:
        server.start(init_options={"bashcoder": settings})
        server.wait_ready(timeout=300)
        ready_s = time.perf_counter() - started

        # Each fresh file is cut at another line, so its prompt shares nothing with the last one.
        cold_ms = []
        lines = script.count("\n")
        for i in range(COLD_SAMPLES):
            cold_uri = f"file:///bench/cold/{i}/backup_rotate.sh"
            server.open(cold_uri, script)
            t0 = time.perf_counter()
            server.inline(cold_uri, lines // 2 + 7 * i, 4)
            cold_ms.append((time.perf_counter() - t0) * 1000)

        logged = len(server.stderr_lines)
        uri = "file:///bench/typing/backup_rotate.sh"
        server.open(uri, "")
        latencies, shown, right, line_start = replay(server, uri, steps, script)
        time.sleep(0.2)  # let the last log lines arrive
        type_through = sum("type-through" in ln for ln in server.stderr_lines[logged:])
    finally:
        server.stop()
    return Run(name, latencies, shown, right, line_start, type_through, cold_ms, ready_s)


def engine_costs(model: Path, script: str, max_tokens: int, rows: int) -> None:
    """What one keystroke costs inside the engine, measured here and now (the machine may be shared)."""
    gen = load_generator(model, None)
    cut = len(script) // 2
    prompt = gen.fim_prompt(script[:cut], script[cut:], max_tokens)
    prefill, step, check = [], [], []
    for i in range(5):
        typed = [*prompt[:-2], 5 + i, prompt[-1]]  # a keystroke: all but the last 2 tokens are cached
        t0 = time.perf_counter()
        reset_prefix_cache(gen)
        gen.generate(prompt, SamplingConfig(max_tokens=1, num_candidates=rows, seed=0))
        t1 = time.perf_counter()
        gen.generate(typed, SamplingConfig(max_tokens=max_tokens, num_candidates=rows, seed=0))
        t2 = time.perf_counter()
        bash_check(script)
        t3 = time.perf_counter()
        prefill.append((t1 - t0) * 1000)
        step.append((t2 - t1) * 1000 / (max_tokens + 1))
        check.append((t3 - t2) * 1000)
    print(
        f"engine alone, medians of 5: prefill of {len(prompt)} tokens {statistics.median(prefill):.1f} ms;"
        f" one decode step ({rows} rows) {statistics.median(step):.1f} ms; `bash -n` {statistics.median(check):.1f} ms"
    )


def report(run: Run) -> None:
    n = len(run.latencies)
    with_suggestion = [ms for ms, chars in zip(run.latencies, run.shown, strict=True) if chars]
    lengths = [chars for chars in run.shown if chars]
    p50, p95 = percentile(with_suggestion, 50), percentile(with_suggestion, 95)
    print(f"\n{run.name}")
    print(f"  server start to model ready   {run.ready_s:7.2f} s")
    cold = run.cold_ms
    print(
        f"  cold first request            {cold[0]:7.1f} ms   (target <= {TARGETS['cold']:.0f});"
        f" median of {len(cold)} files {statistics.median(cold):.1f}, max {max(cold):.1f}"
    )
    print(f"  keystrokes measured           {n:7d}")
    print(f"  suggestion shown: p50         {p50:7.1f} ms   (target <= {TARGETS['p50']:.0f})")
    print(f"  suggestion shown: p95         {p95:7.1f} ms   (target <= {TARGETS['p95']:.0f})")
    print(
        f"  all keystrokes:   p50 / p95   {percentile(run.latencies, 50):7.1f} / {percentile(run.latencies, 95):.1f} ms"
    )
    print(f"  mean                          {statistics.fmean(run.latencies):7.1f} ms")
    for where, wanted in (("at a line's start", True), ("mid-line", False)):
        part = [ms for ms, at in zip(run.latencies, run.line_start, strict=True) if at == wanted]
        chars = [c for c, at in zip(run.shown, run.line_start, strict=True) if at == wanted and c]
        print(
            f"    {where + ':':19s} {len(part):5d} keystrokes, p50 / p95 {percentile(part, 50):.1f} /"
            f" {percentile(part, 95):.1f} ms, {statistics.fmean(chars) if chars else 0:.1f} characters shown"
        )
    print(f"  characters shown, mean        {statistics.fmean(lengths) if lengths else 0:7.1f}")
    pairs = [(chars, ok) for chars, ok in zip(run.shown, run.right, strict=True) if chars]
    right = statistics.fmean(ok for _, ok in pairs) if pairs else 0.0
    whole = 100 * sum(ok == chars for chars, ok in pairs) / max(1, len(pairs))
    print(
        f"  characters right, mean        {right:7.1f}   (the start of a suggestion the script goes on to say)"
    )
    print(f"  suggestions entirely right    {whole:6.1f} %")
    print(f"  answered by type-through      {100 * run.type_through / max(1, n):6.1f} %")
    print(f"  left with no suggestion       {100 * (n - len(with_suggestion)) / max(1, n):6.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=SHIPPED, help="a model dir (default: the shipped tiny)")
    parser.add_argument("--random", action="store_true", help="a random-weight tiny instead (an upper bound)")
    parser.add_argument(
        "--max-keystrokes",
        type=int,
        default=0,
        help="typed (measured) keystrokes per run, about; 0 (default) types every character",
    )
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--candidates", type=int, default=1, help="the server's default is 1")
    parser.add_argument(
        "--temperature", type=float, default=None, help="the server's temperature (default: the server's)"
    )
    parser.add_argument(
        "--time-budget-ms",
        type=int,
        default=ServerSettings().time_budget_ms,
        help="the server's timeBudgetMs (default: the server's default)",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="line",
        help='the server\'s mode: "line" (default here, as the 14.3-character baseline was measured)'
        ' or "auto" (the server\'s default: a block on an empty line or after an opener)',
    )
    parser.add_argument(
        "--no-compare", action="store_true", help="skip the runs without KV-cache reuse and without a budget"
    )
    args = parser.parse_args()

    import torch

    script = SCRIPT.read_text(encoding="utf-8")
    print(
        f"CPU: {cpu_model()}; torch {torch.__version__}, {torch.get_num_threads()} threads;"
        f" load average before the run {os.getloadavg()[0]:.2f}"
    )
    print(f"script: {SCRIPT.relative_to(ROOT)} ({script.count(chr(10))} lines, {len(script)} characters)")
    with tempfile.TemporaryDirectory() as tmp:
        model = build_tiny(Path(tmp), script) if args.random else args.model
        cfg, _ = read_config(model)
        kind = "tiny, random weights" if args.random else str(model)
        print(
            f"model: {kind}: {cfg.num_params() / 1e6:.1f}M parameters, vocab {cfg.vocab_size}, context {cfg.context_length}"
        )
        settings = {
            "mode": args.mode,
            "maxTokens": args.max_tokens,
            "candidates": args.candidates,
            "timeBudgetMs": args.time_budget_ms,
        }
        if args.temperature is not None:
            settings["temperature"] = args.temperature
        print(f"settings: {settings} (other settings at their defaults)")
        engine_costs(model, script, args.max_tokens, args.candidates)
        steps = plan_typing(script, args.max_keystrokes)
        budget = f"time budget {args.time_budget_ms} ms" if args.time_budget_ms else "no time budget"
        runs = [measure(f"{args.mode} mode, KV cache reused, {budget}", model, settings, steps, script, [])]
        if not args.no_compare:
            runs.append(
                measure(
                    f"{args.mode} mode, KV cache off (--no-prefix-cache), {budget}",
                    model,
                    settings,
                    steps,
                    script,
                    ["--no-prefix-cache"],
                )
            )
            if args.time_budget_ms:
                whole = {**settings, "timeBudgetMs": 0}
                runs.append(
                    measure(
                        f"{args.mode} mode, KV cache reused, no time budget (whole lines)",
                        model,
                        whole,
                        steps,
                        script,
                        [],
                    )
                )
    for run in runs:
        report(run)
    print(f"\nload average after the run {os.getloadavg()[0]:.2f} (a shared machine inflates every figure)")


if __name__ == "__main__":
    main()
