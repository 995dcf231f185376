"""Shared real fixtures: a BPE tokenizer trained here and a micro model that has seen bash.

Nothing is mocked: the tokenizer is trained in-process on the fixture scripts,
and the micro model is trained for a few hundred steps on them (a few seconds)
so that generation produces bash-looking text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bashcoder.engine.checkpoint import save_model_dir
from bashcoder.engine.config import preset
from bashcoder.engine.model import Transformer, build_model
from bashcoder.engine.tokenizer import BpeTokenizer, train_tokenizer

FIXTURES = Path(__file__).parent / "fixtures" / "scripts"


def fixture_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.sh"))]


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The suite's exported graphs and clones go to a throwaway cache, never the user's (~/.cache)."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def scripts() -> list[str]:
    return fixture_texts()


@pytest.fixture(scope="session")
def bpe_tokenizer(scripts: list[str]) -> BpeTokenizer:
    return train_tokenizer(scripts * 4, vocab_size=600)


def train_micro(tokenizer: BpeTokenizer, texts: list[str], steps: int = 300, seed: int = 0) -> Transformer:
    """A few hundred steps of plain next-token training on `texts` (test helper, not the trainer)."""
    torch.manual_seed(seed)
    cfg = preset("micro", vocab_size=tokenizer.vocab_size)
    model = build_model(cfg, seed=seed)
    ids: list[int] = []
    for text in texts:
        ids += [tokenizer.eot_id, *tokenizer.encode(text)]
    data = torch.tensor(ids)
    block = 128
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        starts = torch.randint(0, len(data) - block - 1, (16,), generator=gen)
        x = torch.stack([data[s : s + block] for s in starts])
        y = torch.stack([data[s + 1 : s + block + 1] for s in starts])
        loss = model.loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="session")
def micro_model(bpe_tokenizer: BpeTokenizer, scripts: list[str]) -> Transformer:
    return train_micro(bpe_tokenizer, scripts)


@pytest.fixture(scope="session")
def micro_model_dir(
    tmp_path_factory: pytest.TempPathFactory, micro_model: Transformer, bpe_tokenizer: BpeTokenizer
) -> Path:
    """A saved model directory any command can load with --model."""
    return save_model_dir(tmp_path_factory.mktemp("models") / "micro", micro_model, bpe_tokenizer)
