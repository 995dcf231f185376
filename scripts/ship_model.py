"""Copy a trained run into the package as the shipped default model.

Usage: .venv/bin/python scripts/ship_model.py --run runs/tiny-ship --eval runs/tiny-ship/eval.txt

Writes bashcoder/models/tiny/: fp16 safetensors shards of at most 16 MiB,
tokenizer, config, and a model card = the run's card + the eval table + the
commands that rebuilt it (scripts/build_shipped_model.sh).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import torch

from bashcoder.engine.checkpoint import CARD_FILE, DEFAULT_SHARD_BYTES, load_model_dir, save_model_dir

ROOT = Path(__file__).resolve().parent.parent


def data_section(manifest: dict) -> str:
    """The card's data section: sources with bytes, every repository with its commit and license,
    documentation attribution, and what was removed (boilerplate, secrets)."""
    inputs = manifest.get("inputs", {})
    lines = ["## Training data", ""]
    by_source = manifest.get("by_source", {})
    lines.append("| source | files | MB |")
    lines.append("|---|---:|---:|")
    for name, v in sorted(by_source.items()):
        lines.append(f"| {name} | {v['files']:,} | {v['bytes'] / 1e6:.2f} |")
    removed = manifest.get("removed", {})
    secrets = manifest.get("secrets", {})
    lines += [
        "",
        f"Boilerplate removed before training: {', '.join(f'{k} {v:,}' for k, v in sorted(removed.items())) or 'none'}. "
        f"Credentials and personal data replaced: {sum(secrets.values()):,} "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(secrets.items(), key=lambda kv: -kv[1])[:8])}).",
        "",
    ]
    docs = {k: v for k, v in inputs.items() if v.get("source") == "docs"}
    tldr = [v for v in docs.values() if str(v.get("group", "")).startswith("tldr")]
    if tldr:
        lines += [
            "Command examples from [tldr-pages](https://github.com/tldr-pages/tldr) "
            f"(commit {tldr[0].get('version', '')[:12]}), \u00a9 the tldr-pages team and contributors, "
            "licensed [CC-BY-4.0](https://creativecommons.org/licenses/by/4.0/); placeholders were filled "
            "with plausible values. Man-page EXAMPLES sections of installed and Debian packages "
            f"({len(docs) - len(tldr)} inputs), under their packages' licenses.",
            "",
        ]
    git = sorted((v.get("group", ""), v.get("version", ""), v.get("license", ""), v.get("kept_bytes", 0))
                 for v in inputs.values() if v.get("source") == "git")  # fmt: skip
    if git:
        lines += [f"### GitHub repositories ({len(git)}), each read at the commit shown", "",
                  "| repository | commit | license | kept KB |", "|---|---|---|---:|"]  # fmt: skip
        lines += [f"| {g} | {c[:12]} | {lic} | {b / 1e3:.0f} |" for g, c, lic, b in git]
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, type=Path)
    ap.add_argument("--eval", dest="eval_txt", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bashcoder" / "models" / "tiny")
    ap.add_argument("--note", default="", help="A paragraph on how and where it was trained.")
    ap.add_argument(
        "--manifest", type=Path, default=None, help="The corpus manifest.json: lists every source."
    )
    ap.add_argument("--recipe", type=Path, default=None, help="A Markdown file: the measured recipe and mix.")
    args = ap.parse_args()
    loaded = load_model_dir(args.run)
    card = (args.run / CARD_FILE).read_text(encoding="utf-8") if (args.run / CARD_FILE).is_file() else ""
    # The run's card names the directory it was trained in (maybe on another machine); shipped, it is the default.
    card = re.sub(r"bashcoder-generate --model \S+ ", "bashcoder-generate ", card)
    card = (
        card.rstrip()
        + "\n\n## Shipped copy\n\nWeights stored as fp16 safetensors shards of at most 16 MiB.\n"
    )
    if args.note:
        card += f"\n{args.note}\n"
    if args.recipe and args.recipe.is_file():
        card += "\n" + args.recipe.read_text(encoding="utf-8").strip() + "\n"
    if args.manifest and args.manifest.is_file():
        card += "\n" + data_section(json.loads(args.manifest.read_text(encoding="utf-8")))
    if args.eval_txt and args.eval_txt.is_file():
        card += "\n## Measured quality (`bashcoder-eval`, validation split)\n\n```\n"
        card += args.eval_txt.read_text(encoding="utf-8").strip() + "\n```\n"
    build = ROOT / "scripts" / "build_shipped_model.sh"
    card += "\n## How it was built\n\n```bash\n" + build.read_text(encoding="utf-8").strip() + "\n```\n"
    meta = {k: v for k, v in loaded.meta.items() if k not in ("format_version", "tokenizer", "dtype")}
    save_model_dir(
        args.out,
        loaded.model,
        loaded.tokenizer,
        card=card,
        dtype=torch.float16,
        shard_bytes=DEFAULT_SHARD_BYTES,
        meta=meta,
    )
    for p in sorted(args.out.iterdir()):
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
