"""Helpers for the trainer's tests: tiny corpora written here, and a micro run config.

Corpora are real corpus.jsonl files built from tests/fixtures/scripts, with
the groups spread out so the split has something to choose from.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path

from bashcoder.trainer.config import TrainConfig

FIXTURES = Path(__file__).parents[1] / "fixtures" / "scripts"


def write_corpus(directory: Path, docs: Iterable[tuple[str, str]]) -> Path:
    """corpus.jsonl with one record per (text, group), in the collector's format."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for i, (text, group) in enumerate(docs):
            record = {
                "text": text,
                "source": "dir",
                "group": group,
                "path": f"{group}/{i}.sh",
                "license": "MIT",
                "sha256": "",
            }
            fh.write(json.dumps(record) + "\n")
    return directory


def fixture_docs(copies: int = 4) -> list[tuple[str, str]]:
    """Each fixture script `copies` times, every copy in its own group (g<copy>-<script>)."""
    scripts = sorted(FIXTURES.glob("*.sh"))
    return [(p.read_text(encoding="utf-8"), f"g{c}-{p.stem}") for c in range(copies) for p in scripts]


def micro_config(data: Path, out: Path, **overrides: object) -> TrainConfig:
    """A run that takes a second or two on one core."""
    base = TrainConfig(
        model_size="micro",
        max_steps=40,
        data=data,
        out=out,
        batch_size=8,
        context=64,
        warmup_steps=5,
        eval_interval=20,
        eval_tokens=2048,
        save_interval=10,
        log_interval=1,
        device="cpu",
        compile=False,  # a compile costs more than these runs
        vocab_size=300,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]
