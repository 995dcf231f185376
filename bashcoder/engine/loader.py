"""Find a model directory and load it ready to generate.

Lookup order: an explicit path (`--model`), then $BASHCODER_MODEL, then the
default model shipped inside the package (bashcoder/models/tiny).
"""

from __future__ import annotations

import os
from pathlib import Path

from bashcoder.engine.checkpoint import CONFIG_FILE, load_model_dir
from bashcoder.engine.device import DevicePlan, plan
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Generator

MODEL_ENV = "BASHCODER_MODEL"
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "tiny"


def find_model(path: str | os.PathLike[str] | None = None) -> Path:
    """The model directory to use, or a one-line error saying how to get one."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(MODEL_ENV)
    if env:
        chosen = Path(env).expanduser()
        if not chosen.exists():  # the user passed no --model: name what chose this path
            raise BashcoderError(
                f"${MODEL_ENV} names {chosen}, which does not exist; fix or unset it, or pass --model DIR."
            )
        return chosen
    if (SHIPPED_MODEL / CONFIG_FILE).is_file():
        return SHIPPED_MODEL
    raise BashcoderError(
        "no model found: pass --model DIR, set BASHCODER_MODEL, or train one with "
        "`bashcoder-collect --system && bashcoder-train --model-size tiny --out DIR`."
    )


def load_generator(path: str | os.PathLike[str] | None = None, device: str | None = None) -> Generator:
    """Locate, validate and load a model for generation on the planned device."""
    device_plan: DevicePlan = plan(device)
    loaded = load_model_dir(find_model(path), device_plan.device, device_plan.weight_dtype)
    return Generator(loaded, device_plan)
