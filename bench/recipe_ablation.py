"""Training-recipe ablation: short runs of equal tokens on the same data and machine, one table.

    .venv/bin/python bench/recipe_ablation.py --data data --tokens 3000000 \\
        --run optimizer=adamw --run "optimizer=muon;lr=0.002" --run "mix=debian=0.15,docs=0.1" ...

Each `--run` is a semicolon-separated list of `bashcoder-train` options
(without dashes) on top of the common ones (`--model-size tiny`, equal
tokens: `--max-steps` is the token budget over the batch's tokens). A run
lives in `<out>/<name>/`; one that finished is not trained again, and one
that was stopped is resumed, so the script can be interrupted and re-run.
After training, `bashcoder-eval` measures each model on the validation
split (line-start, mid-line and FIM next-line probes) unless --no-eval.

Prints, per run: tokens, steps, wall time, tokens/s, validation bits per
byte (all, and per corpus source) and the eval's probe scores, with the
CPU model; writes `<out>/ablation.json` and a bar chart `<out>/ablation.png`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from bashcoder.engine.config import preset
from bashcoder.engine.device import cpu_model

BIN = Path(sys.executable).parent


def parse_run(spec: str) -> dict[str, str]:
    """`optimizer=muon;lr=0.002` -> {"optimizer": "muon", "lr": "0.002"} (a value may hold `=` and `,`)."""
    opts = {}
    for item in spec.split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--run {spec!r}: {item!r} is not OPTION=VALUE")
        opts[key.strip().replace("_", "-")] = value.strip()
    return opts


def run_name(opts: dict[str, str]) -> str:
    return (
        "_".join(f"{k}-{v}".replace("/", "-").replace("=", "-") for k, v in sorted(opts.items())) or "default"
    )


def last_val(metrics: Path) -> dict[str, object] | None:
    if not metrics.is_file():
        return None
    vals = [json.loads(line) for line in metrics.read_text().splitlines() if '"val"' in line]
    return vals[-1] if vals else None


def train_run(name: str, opts: dict[str, str], args: argparse.Namespace) -> dict[str, object]:
    out = args.out / name
    batch = int(opts.get("batch-size", args.batch_size))
    context = int(opts.get("context", preset(args.model_size).context_length))
    steps = math.ceil(args.tokens / (batch * context))
    card = out / "README.md"
    finished = card.is_file() and "finished: yes" in card.read_text()
    cmd = [
        str(BIN / "bashcoder-train"),
        "--model-size",
        args.model_size,
        "--data",
        str(args.data),
        "--out",
        str(out),
        "--max-steps",
        str(steps),
        "--batch-size",
        str(batch),
        "--eval-interval",
        str(steps),
        "--save-interval",
        str(max(1, steps // 8)),
        "--eval-tokens",
        str(args.eval_tokens),
    ]
    for key, value in opts.items():
        if key not in ("batch-size",):
            cmd += [f"--{key}", value]
    if (out / "train_state" / "LATEST").is_file():
        cmd.append("--resume")
    if not finished:
        print(f"[{name}] training {steps} steps of {batch}x{context} tokens", flush=True)
        start = time.time()
        proc = subprocess.run(["nice", "-n", str(args.nice), *cmd])
        if proc.returncode != 0:
            raise SystemExit(f"[{name}] bashcoder-train exited {proc.returncode}; re-run to resume it")
        print(f"[{name}] trained in {time.time() - start:.0f} s", flush=True)
    val = last_val(out / "metrics.jsonl") or {}
    train_lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if '"train"' in x]
    rates = [r["tokens_per_s"] for r in train_lines if r.get("tokens_per_s")]
    result: dict[str, object] = {
        "name": name,
        "options": opts,
        "steps": steps,
        "tokens": steps * batch * context,
        "val_bpb": val.get("bpb"),
        "val_bpb_by_source": val.get("bpb_by_source", {}),
        "tokens_per_s": sorted(rates)[len(rates) // 2] if rates else None,
    }
    if args.eval:
        report = out / "eval.json"
        if not report.is_file():
            subprocess.run(
                [
                    "nice",
                    "-n",
                    str(args.nice),
                    str(BIN / "bashcoder-eval"),
                    "--model",
                    str(out),
                    "--data",
                    str(args.data),
                    "--samples",
                    str(args.samples),
                    "--shellcheck-samples",
                    "0",
                    "--json",
                    str(report),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        result["eval"] = json.loads(report.read_text())
    return result


def probe_scores(report: dict[str, object]) -> dict[str, float]:
    """The headline probe figures of one bashcoder-eval JSON report, flattened."""
    out: dict[str, float] = {}
    for mode, scores in dict(report.get("modes", {})).items():  # type: ignore[arg-type]
        out[f"{mode} exact"] = scores.get("exact_match", float("nan"))
        if "next_word" in scores:
            out[f"{mode} word"] = scores["next_word"]
    return out


def table(results: list[dict[str, object]]) -> str:
    sources = sorted({s for r in results for s in dict(r["val_bpb_by_source"])})  # type: ignore[arg-type]
    probes = sorted({k for r in results if "eval" in r for k in probe_scores(r["eval"])})  # type: ignore[arg-type]
    head = ["run", "tokens", "tok/s", "val bpb", *[f"{s} bpb" for s in sources], *probes]
    rows = []
    for r in results:
        by = dict(r["val_bpb_by_source"])  # type: ignore[arg-type]
        scores = probe_scores(r["eval"]) if "eval" in r else {}  # type: ignore[arg-type]
        rows.append(
            [
                str(r["name"]),
                f"{int(r['tokens']) / 1e6:.2f}M",  # type: ignore[call-overload]
                f"{r['tokens_per_s']:.0f}" if r["tokens_per_s"] else "-",
                f"{r['val_bpb']:.4f}" if r["val_bpb"] is not None else "-",
                *[f"{by[s]:.4f}" if s in by else "-" for s in sources],
                *[f"{100 * scores[p]:.1f}%" if p in scores else "-" for p in probes],
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), *[fmt.format(*row) for row in rows]])


def plot(results: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources = sorted({s for r in results for s in dict(r["val_bpb_by_source"])})  # type: ignore[arg-type]
    series = ["all", *sources]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(results) * len(series) / 2), 4))
    width = 0.8 / len(series)
    for i, s in enumerate(series):
        values = [
            (r["val_bpb"] if s == "all" else dict(r["val_bpb_by_source"]).get(s)) or 0  # type: ignore[arg-type]
            for r in results
        ]
        ax.bar([j + i * width for j in range(len(results))], values, width, label=s)
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(results))])
    ax.set_xticklabels([str(r["name"]) for r in results], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("validation bits per byte (lower is better)")
    ax.set_title(f"recipe ablation, {int(results[0]['tokens']) / 1e6:.1f}M tokens each ({cpu_model()})")  # type: ignore[call-overload]
    low = min((v for r in results for v in [r["val_bpb"] or 9]), default=0)
    ax.set_ylim(bottom=max(0.0, float(low) * 0.8))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"))
    parser.add_argument("--tokens", type=int, default=3_000_000, help="training tokens per run")
    parser.add_argument("--model-size", default="tiny")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--eval-tokens", type=int, default=262144, help="validation tokens at the end")
    parser.add_argument("--samples", type=int, default=300, help="bashcoder-eval probes per kind")
    parser.add_argument("--no-eval", dest="eval", action="store_false")
    parser.add_argument("--nice", type=int, default=19)
    parser.add_argument("--run", action="append", default=[], help="OPTION=VALUE;... (repeatable)")
    args = parser.parse_args()
    runs = [parse_run(spec) for spec in (args.run or [""])]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; {args.tokens:,} tokens a run", flush=True)
    results = [train_run(run_name(opts), opts, args) for opts in runs]
    print()
    print(table(results))
    (args.out / "ablation.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    plot(results, args.out / "ablation.png")
    print(f"\nwrote {args.out / 'ablation.json'} and {args.out / 'ablation.png'}")


if __name__ == "__main__":
    main()
