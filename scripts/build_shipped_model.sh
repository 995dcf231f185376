#!/usr/bin/env bash
# Rebuild the shipped default model (bashcoder/models/tiny) from scratch.
# These are the commands that produced the committed model; on a CUDA machine raise
# --max-steps (and --batch-size) for the token budget the data supports.
set -euo pipefail
cd "$(dirname "$0")/.."
make install-dev
.venv/bin/bashcoder-collect --system --debian-default --out runs/data-ship
TRAIN=(--model-size tiny --data runs/data-ship --out runs/tiny-ship --batch-size 16 --save-interval 20
       --warmup-steps 20 --lr 2e-3 --eval-tokens 65536)
.venv/bin/bashcoder-train "${TRAIN[@]}" --max-steps 320 --eval-interval 40
# Continued on the same 2-core CPU (a warm restart: the cosine is stretched to the new end).
# The shipped run first resumed towards 1100 steps and was stopped at step 345 (SIGTERM
# saves the state; where it stops only changes those few steps' learning rate), then
# went on to 900:
timeout --signal=TERM 240 .venv/bin/bashcoder-train "${TRAIN[@]}" --max-steps 1100 --eval-interval 40 --resume || true
.venv/bin/bashcoder-train "${TRAIN[@]}" --max-steps 900 --eval-interval 80 --resume
.venv/bin/bashcoder-eval --model runs/tiny-ship --data runs/data-ship --samples 500 \
    --json runs/tiny-ship/eval.json --plot runs/tiny-ship/eval.png | tee runs/tiny-ship/eval.txt
.venv/bin/python scripts/ship_model.py --run runs/tiny-ship --eval runs/tiny-ship/eval.txt
.venv/bin/python scripts/regenerate_examples.py
