"""The output directory: an engine model directory with the run's own files beside it.

```
runs/tiny/
  config.json tokenizer.json model.safetensors README.md   the best model so far (engine format)
  train_state/                                             exact-resume checkpoint (never shipped)
  metrics.jsonl training.png                               curves
```
The engine's `save_model_dir` replaces a whole directory, which would take
train_state/ and the curves with it, so the model is saved to a temporary
sibling and its files are moved in one by one (each move atomic; weights
first, config.json last, so a config never names weights that are not there).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bashcoder.engine.checkpoint import CARD_FILE, CONFIG_FILE, INDEX_FILE, TOKENIZER_FILE, save_model_dir
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.model import Transformer
from bashcoder.engine.tokenizer import Tokenizer
from bashcoder.trainer.metrics import METRICS_FILE
from bashcoder.trainer.paths import make_output_dir
from bashcoder.trainer.plot import PLOT_FILE
from bashcoder.trainer.state import STATE_DIR, has_train_state

RUN_FILES = {STATE_DIR, METRICS_FILE, PLOT_FILE}


def _is_weights(name: str) -> bool:
    return name.endswith(".safetensors") or name == INDEX_FILE


def publish_model(
    out: Path, model: Transformer, tokenizer: Tokenizer, card: str, meta: dict[str, object]
) -> None:
    """Make `model` the model of directory `out`, keeping everything else there."""
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".model-", dir=out))
    try:
        built = save_model_dir(staging / "m", model, tokenizer, card=card, meta=meta)
        new = sorted(p.name for p in built.iterdir())
        for name in [n for n in new if _is_weights(n)]:
            os.replace(built / name, out / name)
        for old in out.iterdir():  # weights of another layout (sharded vs single) would confuse the loader
            if old.is_file() and _is_weights(old.name) and old.name not in new:
                old.unlink()
        for name in (TOKENIZER_FILE, CARD_FILE, CONFIG_FILE):
            os.replace(built / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def check_out_dir(out: Path, resume: bool) -> None:
    """Refuse to start over an existing run, or to resume where there is none, or an --out that
    is a file or cannot be created (BashcoderError, before any data is read)."""
    if out.exists() and not out.is_dir():
        raise BashcoderError(f"--out {out} is a file; name a directory.")
    if resume:
        if not has_train_state(out):
            raise BashcoderError(
                f"nothing to resume in {out} (no {STATE_DIR}/); drop --resume to start a new run there."
            )
        return
    if has_train_state(out):
        raise BashcoderError(
            f"{out} already holds a training run; pass --resume to continue it or choose another --out."
        )
    if out.exists() and any(p.name not in RUN_FILES and not p.name.startswith(".") for p in out.iterdir()):
        raise BashcoderError(
            f"{out} already holds files; choose an empty or new --out so nothing is overwritten."
        )
    make_output_dir(out)


def branch_run(source: Path, out: Path) -> None:
    """Copy the run in `source` (training state, curves, best model) into a new `out`, to be resumed there.

    The source is only read: a constant-rate WSD run goes on untouched while
    its copy in `out` decays. BashcoderError when `source` holds no run or
    `out` already holds files.
    """
    if not has_train_state(source):
        raise BashcoderError(f"--init-from {source}: no {STATE_DIR}/ there; name a training run directory.")
    if source.resolve() == out.resolve():
        raise BashcoderError("--init-from names --out itself; use --resume to continue a run in place.")
    if out.exists() and any(not p.name.startswith(".") for p in out.iterdir()):
        raise BashcoderError(f"{out} already holds files; choose an empty or new --out for the copy.")
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".branch-", dir=out))
    try:
        for item in sorted(source.iterdir()):
            if item.name.startswith("."):
                continue
            if item.is_dir():
                shutil.copytree(item, staging / item.name)
            else:
                shutil.copy2(item, staging / item.name)
        # The state goes last, so an interrupted copy leaves no resumable half run.
        for item in sorted(staging.iterdir(), key=lambda p: p.name == STATE_DIR):
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
