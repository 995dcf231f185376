from __future__ import annotations

import pytest
import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.device import plan_for
from bashcoder.engine.generate import Generator


@pytest.fixture
def gen(micro_model, bpe_tokenizer) -> Generator:  # noqa: ANN001
    """The micro model as the eval runs it: a Generator on the CPU."""
    return Generator(
        LoadedModel(micro_model, bpe_tokenizer, micro_model.cfg, None, {}), plan_for(torch.device("cpu"))
    )  # type: ignore[arg-type]
