"""The same line gets the same ghost text every time, as a shell's autosuggestions do."""

from __future__ import annotations

import dataclasses

import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.config import preset
from bashcoder.engine.device import plan_for
from bashcoder.engine.generate import Generator
from bashcoder.engine.model import build_model
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.config import Settings


def test_typing_the_same_line_again_shows_the_same_ghost_text(bpe_tokenizer) -> None:  # noqa: ANN001
    # Sampled at temperature 0.2, the same `git st` got another suggestion from run to run. Random
    # weights give flat distributions, where any sampling shows.
    cfg = preset("micro", vocab_size=bpe_tokenizer.vocab_size)
    model = build_model(cfg, seed=3).eval()
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="torch")
    generator = Generator(LoadedModel(model, bpe_tokenizer, cfg, None, {}), plan)
    shown = set()
    for _ in range(6):
        assistant = Assistant(generator, Settings(time_budget_ms=0, max_tokens=12))  # default sampling
        got = assistant.suggest("git st", timed=False)
        shown.add(got.text if got else None)
    assert len(shown) == 1, shown
