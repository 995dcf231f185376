"""Int8 against fp32 on ONNX Runtime: how often a trained model's int8 graph picks fp32's token.

Random weights make every runtime look exact (they repeat one token), so this
uses a trained model (the shipped tiny, or `--model DIR`) on contexts cut from
real scripts: the validation groups of a prepared corpus with `--data DIR`
(never trained on), else the scripts in bench/data and tests/fixtures/scripts.
Each context is the up to `--context` tokens before a random point of a
script. For each it prints, over all contexts: next-token top-1 agreement of
int8 with fp32, the largest |logit difference|, and the share of
`--continue`-token greedy continuations that are identical; fp32 against
eager torch beside it (the exactness the runtime promises). The int8 graph is
the one this CPU gets (signed weights with VNNI or AMX, else unsigned:
`device.int8_weight_type`); `--weights u8,s8` measures both (where the CPU lacks VNNI, the signed graph
may fail the runtime's load check: the saturation it is kept from). The CPU model
and its vector extensions are printed with the figures.

Usage: python bench/int8_agreement.py [--data DIR] [--model DIR] [--contexts 150] [--continue 12] [--weights u8,s8]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from pathlib import Path

import torch
from tqdm import tqdm

from bashcoder.engine.checkpoint import load_model_dir
from bashcoder.engine.device import cpu_model, has_amx, import_onnxruntime, plan_for
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.loader import find_model
from bashcoder.engine.onnx_export import INT8_WEIGHTS

ROOT = Path(__file__).resolve().parent.parent


def scripts(data: Path | None) -> list[str]:
    """The texts to cut contexts from: validation documents of `data`, else the repository's scripts."""
    if data is None:
        paths = [
            *sorted((ROOT / "bench" / "data").glob("*.sh")),
            *sorted((ROOT / "tests" / "fixtures" / "scripts").glob("*")),
        ]
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
        return [t for t in texts if len(t) > 200]  # a cut needs room: the point is drawn past 100
    metas = sorted((data / "prepared").glob("*/meta.json"))
    if not metas:
        raise SystemExit(
            f"{data}/prepared holds no prepared corpus; run bashcoder-train --data {data} first."
        )
    val = set(json.loads(metas[0].read_text())["val_groups"])
    with (data / "corpus.jsonl").open(encoding="utf-8") as fh:
        return [rec["text"] for rec in map(json.loads, fh) if rec["group"] in val and len(rec["text"]) > 200]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="a corpus directory with its prepared/ files")
    ap.add_argument("--model", default=None)
    ap.add_argument("--contexts", type=int, default=150)
    ap.add_argument("--context", type=int, default=448, help="tokens before the cut, at most")
    ap.add_argument("--continue", dest="cont", type=int, default=12, help="greedy tokens compared")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--weights", default=None, help="int8 weight types, comma-separated (default: this CPU's)"
    )
    args = ap.parse_args()
    ort = import_onnxruntime()
    cpu = plan_for(torch.device("cpu"))
    loaded = load_model_dir(find_model(args.model), cpu.device, torch.float32)
    # fp32 everywhere: on AMX CPUs the plan's bf16 prefill would run all three on torch (the graphs
    # decline autocast), and the figures would compare torch with itself.
    fp32 = dataclasses.replace(cpu, prefill_dtype=None, decode_dtype=None)
    weights = [w.strip() for w in (args.weights or cpu.int8_weights).split(",") if w.strip()]
    if unknown := [w for w in weights if w not in INT8_WEIGHTS]:
        raise SystemExit(f"--weights {','.join(unknown)}: use {' or '.join(INT8_WEIGHTS)}, comma-separated")
    gens = {rt: Generator(loaded, dataclasses.replace(fp32, runtime=rt)) for rt in ("torch", "onnx")}
    if gens["onnx"]._forward is loaded.model:
        raise SystemExit("ONNX Runtime fell back to torch: see the log line above.")
    for w in weights:
        gen = Generator(loaded, dataclasses.replace(fp32, runtime="onnx-int8", int8_weights=w))
        if gen._forward is loaded.model:  # e.g. signed weights refused by the load check on AVX2
            print(f"int8 {w}: fell back to torch (see the log line above); left out")
            continue
        gens[f"int8 {w}"] = gen
    rng = random.Random(args.seed)
    texts = scripts(args.data)
    print(
        f"cpu: {cpu_model()}  AMX: {'yes' if has_amx() else 'no'}  onnxruntime {ort.__version__}  torch {torch.__version__}"
    )
    print(
        f"model: {find_model(args.model)}; {args.contexts} contexts from {len(texts)} scripts; seed {args.seed}"
    )
    tok = loaded.tokenizer
    greedy = SamplingConfig(temperature=0, max_tokens=args.cont)
    compared = [rt for rt in gens if rt != "torch"]
    top1 = dict.fromkeys(compared, 0)
    worst = dict.fromkeys(compared, 0.0)
    same = dict.fromkeys(compared, 0)
    for _ in tqdm(range(args.contexts), desc="contexts", unit="ctx"):
        text = rng.choice(texts)
        ids = tok.encode(text[: rng.randrange(100, len(text))])[-args.context :]
        logits, conts = {}, {}
        for rt, gen in gens.items():
            gen.reset_cache()
            with torch.inference_mode():
                logits[rt] = gen._prefill(ids, 1)[1][0]
            gen.reset_cache()
            conts[rt] = gen.generate(ids, greedy)[0].token_ids
        # fp32 ONNX against torch; int8 against fp32 ONNX (what it replaces)
        for rt in compared:
            ref = "torch" if rt == "onnx" else "onnx"
            top1[rt] += int(logits[rt].argmax() == logits[ref].argmax())
            worst[rt] = max(worst[rt], (logits[rt] - logits[ref]).abs().max().item())
            same[rt] += int(conts[rt] == conts[ref])
    n = args.contexts
    print(f"{'pair':22} {'top-1 agree':>12} {'max |dlogit|':>13} {f'{args.cont}-token greedy same':>22}")
    for rt in compared:
        label = "onnx fp32 vs torch" if rt == "onnx" else f"onnx {rt} vs fp32"
        print(f"{label:22} {100 * top1[rt] / n:11.1f}% {worst[rt]:13.3g} {100 * same[rt] / n:21.1f}%")


if __name__ == "__main__":
    main()
