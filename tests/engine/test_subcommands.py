"""A suggestion that completes `git st` to a subcommand git lacks (`git step`) is not shown, on any surface."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.completer import Completer, CompletionRequest
from bashcoder.engine.config import preset
from bashcoder.engine.device import plan_for
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.model import build_model
from bashcoder.engine.subcommands import fit_subcommand, git_subcommands, unknown_subcommand
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.config import Settings

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


def test_no_surface_completes_git_to_a_command_it_lacks(bpe_tokenizer) -> None:  # noqa: ANN001
    # Random weights write random words after `git `: the model's own answers include unknown ones
    # (checked below, so the test proves something), and neither the terminal's ghost text nor the
    # completer the editor's server uses shows them.
    cfg = preset("micro", vocab_size=bpe_tokenizer.vocab_size)
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="torch")
    raw_bad = 0
    for seed in range(8):
        generator = Generator(
            LoadedModel(build_model(cfg, seed=seed).eval(), bpe_tokenizer, cfg, None, {}), plan
        )
        assistant = Assistant(generator, Settings(time_budget_ms=0, max_tokens=8))
        editor = Completer(generator)
        for typed in ("git st", "git c", "git "):
            raw = generator.generate(
                bpe_tokenizer.encode(typed), SamplingConfig(temperature=0, max_tokens=8)
            )[0].text
            raw_bad += unknown_subcommand(typed, raw.split("\n")[0]) is not None
            got = assistant.suggest(typed, timed=False)
            done = got is not None and got.finish not in ("time", "length")  # else its last word may go on
            assert got is None or unknown_subcommand(typed, got.text, done) is None, (typed, got.text)
            shown = editor.complete(CompletionRequest(f"#!/bin/bash\n{typed}", "\n", mode="line"))
            prefix = f"#!/bin/bash\n{typed}"
            assert all(
                unknown_subcommand(prefix, s.text, s.finish not in ("time", "length")) is None for s in shown
            ), shown
    assert raw_bad, "the model never wrote an unknown subcommand: the test proves nothing"
