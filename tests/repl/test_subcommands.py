"""A ghost text that completes `git st` to a subcommand git lacks (`git step`) is not shown."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.config import preset
from bashcoder.engine.device import plan_for
from bashcoder.engine.generate import Generator
from bashcoder.engine.model import build_model
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.config import Settings
from bashcoder.repl.subcommands import fit_subcommand, git_subcommands, unknown_subcommand

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list its commands")


@pytest.mark.parametrize(
    ("before", "text", "bad"),
    [
        ("git st", "ep", "step"),
        ("git st", "atus", None),
        ("git st", "ash pop", None),
        ("sudo git comm", "t -m wip", "commt"),
        ("cd repo && git -C src pu", "lll origin", "pulll"),
        ("git --no-pager lo", "g --oneline", None),
        ("git step", " --force", None),  # typed whole: the user's word, not the model's
        ("echo legit st", "ep", None),
    ],
)
def test_a_suggested_git_subcommand_must_be_one_git_has(before: str, text: str, bad: str | None) -> None:
    assert unknown_subcommand(before, text) == bad


@pytest.mark.parametrize(
    ("before", "text", "shown"),
    [
        ("git st", "atus-remote", "atus"),  # the shipped model's answer: cut to `git status`
        ("git ch", "eckout-head)", "eckout"),
        ("git st", "ep", None),
        ("git st", "atus -sb", "atus -sb"),
        ("git status", "-remote", None),  # the typed word is whole: nothing of it is cut away
    ],
)
def test_an_unknown_subcommand_is_cut_to_the_known_one_it_starts_with(
    before: str, text: str, shown: str | None
) -> None:
    assert fit_subcommand(before, text) == shown


def test_a_word_cut_by_the_time_budget_is_not_judged_and_without_git_nothing_is() -> None:
    assert unknown_subcommand("git st", "a", finished=False) is None
    assert unknown_subcommand("git st", "a") == "sta"
    assert unknown_subcommand("git st", "ep", known=lambda: None) is None


def test_git_lists_its_commands() -> None:
    names = git_subcommands()
    assert names is not None and {"status", "stash", "commit", "log"} <= names


def test_the_ghost_text_never_completes_git_to_a_command_it_lacks(bpe_tokenizer) -> None:  # noqa: ANN001
    # Random weights write random words after `git `: without the check some are shown.
    cfg = preset("micro", vocab_size=bpe_tokenizer.vocab_size)
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="torch")
    raw_bad = 0
    for seed in range(8):
        model = build_model(cfg, seed=seed).eval()
        assistant = Assistant(
            Generator(LoadedModel(model, bpe_tokenizer, cfg, None, {}), plan),
            Settings(time_budget_ms=0, max_tokens=8),
        )
        for typed in ("git st", "git c", "git "):
            got = assistant.suggest(typed, timed=False)
            assert got is None or unknown_subcommand(typed, got.text) is None, (typed, got.text)
            raw = assistant.ghost._last  # what the model answered before the check
            if raw is not None and raw.suggestions and unknown_subcommand(typed, raw.suggestions[0].text):
                raw_bad += 1
    assert raw_bad, "the model never suggested an unknown subcommand: the test proves nothing"
