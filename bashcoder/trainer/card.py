"""The model card (README.md of the model directory), rendered from a run summary (a pure function)."""

from __future__ import annotations

from collections.abc import Mapping


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _table(rows: Mapping[str, object]) -> list[str]:
    lines = ["| | |", "| --- | --- |"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in rows.items()]
    return lines


def render_card(summary: Mapping[str, object]) -> str:
    """Markdown for a model directory.

    `summary` holds: name, params, model (ModelConfig dict), config (TrainConfig
    dict), data (prepare's meta.json), step, max_steps, tokens, best_val_bpb,
    best_step, last_val_bpb, hardware, world_size, tokens_per_s, elapsed_s,
    finished.
    """
    data: Mapping[str, object] = summary.get("data", {})  # type: ignore[assignment]
    train: Mapping[str, int] = data.get("train", {})  # type: ignore[assignment]
    val: Mapping[str, int] = data.get("val", {})  # type: ignore[assignment]
    status = "finished" if summary.get("finished") else "in progress (or interrupted)"
    best = summary.get("best_val_bpb")
    lines = [
        f"# {summary.get('name', 'bashcoder model')}",
        "",
        "A small decoder-only transformer that writes bash, trained from scratch with `bashcoder-train` "
        "on next-token prediction plus fill-in-the-middle (PSM and SPM).",
        "",
        "```",
        f"bashcoder-generate --model {summary.get('out', 'THIS_DIR')} --prompt '#!/bin/bash'",
        "```",
        "",
        "## Quality",
        "",
        f"Validation bits per byte (lower is better; text from source groups never trained on): "
        f"**{_fmt(best) if best is not None else 'not evaluated yet'}**"
        + (
            f" at step {_fmt(summary.get('best_step'))} (the weights in this directory)."
            if best is not None
            else "."
        ),
        "",
        "## Data",
        "",
        *_table(
            {
                "training documents": train.get("docs", "?"),
                "training bytes": train.get("bytes", "?"),
                "training tokens": train.get("tokens", "?"),
                "training source groups": train.get("groups", "?"),
                "validation documents": val.get("docs", "?"),
                "validation bytes": val.get("bytes", "?"),
                "validation tokens": val.get("tokens", "?"),
                "validation source groups": val.get("groups", "?"),
                "tokenizer": f"{data.get('tokenizer', '?')}, {_fmt(data.get('vocab_size', '?'))} tokens",
                "corpus sha256": data.get("corpus_sha256", "?"),
            }
        ),
        "",
    ]
    for title, key in (("Sources", "sources"), ("Licenses", "licenses")):
        counts: Mapping[str, int] = data.get(key) or {}  # type: ignore[assignment]
        if counts:
            lines += [
                f"{title} (documents): "
                + ", ".join(f"{k or '?'} {_fmt(v)}" for k, v in list(counts.items())[:12]),
                "",
            ]
    manifest: Mapping[str, object] = data.get("manifest") or {}  # type: ignore[assignment]
    if manifest:
        lines += ["Collection manifest:", "", *_table(manifest), ""]
    lines += [
        "## Training run",
        "",
        *_table(
            {
                "status": status,
                "parameters": summary.get("params", "?"),
                "steps": f"{_fmt(summary.get('step', 0))} of {_fmt(summary.get('max_steps', '?'))}",
                "tokens seen": summary.get("tokens", 0),
                "last validation bpb": summary.get("last_val_bpb", "n/a"),
                "hardware": summary.get("hardware", "?"),
                "processes": summary.get("world_size", 1),
                "throughput (tokens/s)": summary.get("tokens_per_s", "n/a"),
                "training time (s)": summary.get("elapsed_s", "n/a"),
            }
        ),
        "",
        "### Model",
        "",
        *_table(summary.get("model", {})),  # type: ignore[arg-type]
        "",
        "### Options",
        "",
        *_table(summary.get("config", {})),  # type: ignore[arg-type]
        "",
        "Curves: `metrics.jsonl` and `training.png` beside this file (not shipped with the model).",
        "",
    ]
    return "\n".join(lines)
