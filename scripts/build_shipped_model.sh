#!/usr/bin/env bash
# Rebuild the shipped default model (bashcoder/models/tiny) from scratch.
# This is exactly what produced the committed model; on a CUDA machine raise
# --max-steps (and --batch-size) for the token budget the data supports.
set -euo pipefail
cd "$(dirname "$0")/.."
make install-dev
.venv/bin/bashcoder-collect --system --debian-default --out runs/data-ship
.venv/bin/bashcoder-train --model-size tiny --data runs/data-ship --out runs/tiny-ship \
    --max-steps 320 --batch-size 16 --eval-interval 40 --save-interval 20 --warmup-steps 20 \
    --lr 2e-3 --eval-tokens 65536
.venv/bin/bashcoder-eval --model runs/tiny-ship --data runs/data-ship --samples 500 \
    --json runs/tiny-ship/eval.json --plot runs/tiny-ship/eval.png | tee runs/tiny-ship/eval.txt
.venv/bin/python scripts/ship_model.py --run runs/tiny-ship --eval runs/tiny-ship/eval.txt
.venv/bin/python scripts/regenerate_examples.py
