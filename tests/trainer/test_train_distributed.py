from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from bashcoder.trainer.state import load_train_state

HERE = Path(__file__).parent


def test_two_gloo_processes_end_with_identical_weights(corpus_dir: Path, tmp_path: Path) -> None:
    out, dumps = tmp_path / "run", tmp_path / "dumps"
    dumps.mkdir()
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(HERE / "ddp_worker.py"),
        str(corpus_dir),
        str(out),
        str(dumps),
    ]
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = load_file(str(dumps / "rank0.safetensors")), load_file(str(dumps / "rank1.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # Only rank 0 wrote: one line per logged step, not two.
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["kind"] == "train"] == [2, 4, 6]
    state = load_train_state(out)
    assert state.payload["world_size"] == 2 and state.step == 6
    # Every rank drew its own data: their sampler positions differ.
    ranks = state.payload["ranks"]
    assert ranks[0]["sampler"] != ranks[1]["sampler"]
    assert torch.equal(state.model["wte.weight"], a["wte.weight"])
