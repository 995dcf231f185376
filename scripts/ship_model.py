"""Copy a trained run into the package as the shipped default model.

Usage: .venv/bin/python scripts/ship_model.py --run runs/tiny-ship --eval runs/tiny-ship/eval.txt

Writes bashcoder/models/tiny/: fp16 safetensors shards of at most 16 MiB,
tokenizer, config, and a model card = the run's card + the eval table + the
commands that rebuilt it (scripts/build_shipped_model.sh).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from bashcoder.engine.checkpoint import CARD_FILE, DEFAULT_SHARD_BYTES, load_model_dir, save_model_dir

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True, type=Path)
    ap.add_argument("--eval", dest="eval_txt", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bashcoder" / "models" / "tiny")
    ap.add_argument("--note", default="", help="A paragraph on how and where it was trained.")
    args = ap.parse_args()
    loaded = load_model_dir(args.run)
    card = (args.run / CARD_FILE).read_text(encoding="utf-8") if (args.run / CARD_FILE).is_file() else ""
    card = (
        card.rstrip()
        + "\n\n## Shipped copy\n\nWeights stored as fp16 safetensors shards of at most 16 MiB.\n"
    )
    if args.note:
        card += f"\n{args.note}\n"
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
