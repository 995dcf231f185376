"""A suggestion that completes `git st` to a subcommand git lacks (`git step`) is not shown, on any surface;
nor `docker ru` to `docker rucp-cap-drop`, where the program lists its subcommands."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import pytest
import torch

from bashcoder.engine import subcommands
from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.completer import Completer, CompletionRequest
from bashcoder.engine.config import preset
from bashcoder.engine.device import plan_for
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.model import build_model
from bashcoder.engine.subcommands import (
    Lister,
    fit_subcommand,
    git_subcommands,
    listed_subcommands,
    program_subcommands,
    unknown_subcommand,
    word_choices,
)
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
        ("git st", "cp://127.0.0.1:8080", "stcp"),  # the shipped model's, in a piped session
        ("git status", ": clean", None),
    ],
)
def test_a_suggested_git_subcommand_must_be_one_git_has(before: str, text: str, bad: str | None) -> None:
    assert unknown_subcommand(before, text, known=program_subcommands) == bad


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
    assert fit_subcommand(before, text, known=program_subcommands) == shown


def test_a_word_cut_by_the_time_budget_is_not_judged_and_without_git_nothing_is() -> None:
    assert unknown_subcommand("git st", "a", finished=False, known=program_subcommands) is None
    assert unknown_subcommand("git st", "a", known=program_subcommands) == "sta"
    assert unknown_subcommand("git st", "ep", known=lambda program: None) is None


def test_git_lists_its_commands() -> None:
    names = git_subcommands()
    assert names is not None and {"status", "stash", "commit", "log"} <= names


FAKE = {
    "docker": frozenset({"run", "ps", "rmi", "compose", "exec"}),
    "kubectl": frozenset({"get", "apply", "logs"}),
    "npm": frozenset({"install", "i", "run", "ci"}),
}


@pytest.mark.parametrize(
    ("before", "text", "shown"),
    [
        ("docker ru", "cp-cap-drop 2>&1", None),  # the shipped model's answers
        ("kubectl get", "-workspaces/kubelet-metadata.json", None),  # cut to `get`: nothing left to show
        ("kubectl ", "get-pods -A", "get"),
        ("sudo docker ", "rmi-all", "rmi"),
        ("docker ps", " -q | head", " -q | head"),
        ("docker compose ", "upp -d", "upp -d"),  # only the program's first word is judged
        ("docker -H tcp://host:2375 ", "runn", "runn"),  # options may take values: not judged
        ("echo docker ru", "nn", "nn"),  # not a command
        ("npm ", "i lodash", "i lodash"),  # aliases count
        ("cd web && npm ", "instal x", None),
        ("make ", "bulid", "bulid"),  # a program that lists nothing: not judged
    ],
)
def test_programs_that_list_their_subcommands_are_judged_like_git(
    before: str, text: str, shown: str | None
) -> None:
    assert fit_subcommand(before, text, known=FAKE.get) == shown


@pytest.mark.parametrize(
    ("program", "has"),
    [
        ("git", "status"),
        ("docker", "run"),
        ("kubectl", "get"),
        ("npm", "install"),
        ("cargo", "build"),
        ("pip3", "install"),
    ],
)
def test_each_installed_program_lists_its_subcommands(program: str, has: str) -> None:
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed")
    names = program_subcommands(program)
    assert names is not None and has in names and len(names) >= 5


def test_a_slow_listing_holds_no_keystroke_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = tmp_path / "slowlister"
    slow.write_text("#!/bin/sh\nsleep 1\necho alpha beta\n")
    slow.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setitem(subcommands.LISTERS, "slowlister", Lister((), str.split))
    started = time.perf_counter()
    assert fit_subcommand("slowlister ", "gamma") == "gamma"  # not listed yet: not judged
    assert time.perf_counter() - started < 0.5
    deadline = time.perf_counter() + 10
    while listed_subcommands("slowlister") is None and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert listed_subcommands("slowlister") == {"alpha", "beta"}
    assert fit_subcommand("slowlister ", "gamma") is None  # judged once it is
    assert fit_subcommand("slowlister ", "alpha -v") == "alpha -v"


GIT = {"git": frozenset({"status", "stash", "stage", "show", "commit", "commit-tree", "checkout"})}


def test_a_word_the_user_typed_is_never_judged_nor_a_quoted_value() -> None:
    # a repo's own alias, helm's `un`, npm's abbreviations: not in any listing, and the user's choice
    assert unknown_subcommand("git comm", " -1", known=GIT.get) is None
    assert unknown_subcommand("git step", " --force", known=GIT.get) is None
    # the rest of a quoted option value is no subcommand; the word after it is
    assert unknown_subcommand('git -c user.name="Jane', ' Doe" commit -m wip', known=GIT.get) is None
    assert unknown_subcommand("git -c 'user.name=Jane", " Doe' commit", known=GIT.get) is None
    assert unknown_subcommand('git -c user.name="Jane Doe" st', "ep", known=GIT.get) == "step"


def test_the_names_a_typed_subcommand_word_may_complete_to() -> None:
    assert word_choices("git st", GIT.get) == ("st", ["stage", "stash", "status"])
    assert word_choices("cd x && sudo git comm", GIT.get) == ("comm", ["commit", "commit-tree"])
    assert word_choices("git status", GIT.get) is None  # whole: nothing longer starts with it
    assert word_choices("git show", {"git": frozenset({"show", "show-ref"})}.get) is None  # whole already
    assert word_choices("echo git st", GIT.get) is None  # not a command
    assert word_choices("git st --short", GIT.get) is None  # the cursor is not in the word
    many = {"git": frozenset(f"s{i:02d}" for i in range(40))}
    assert word_choices("git s", many.get) is None  # too many to choose from


def test_when_every_suggestion_names_an_unknown_subcommand_the_model_picks_among_the_known(
    bpe_tokenizer,  # noqa: ANN001
) -> None:
    names = git_subcommands()
    assert names is not None
    cfg = preset("micro", vocab_size=bpe_tokenizer.vocab_size)
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="torch")
    fell_back = 0
    for seed in range(6):
        generator = Generator(
            LoadedModel(build_model(cfg, seed=seed).eval(), bpe_tokenizer, cfg, None, {}), plan
        )
        completer = Completer(generator)
        prefix = "#!/bin/bash\ngit st"
        ranked = completer.known_word(prefix, "")
        assert len(ranked) == 1 and "st" + ranked[0].text in names  # one of git's own: stash, status, ...
        answers: list[list] = []
        real = completer.known_word
        completer.known_word = lambda p, s, real=real, seen=answers: seen.append(real(p, s)) or seen[-1]  # type: ignore[method-assign]
        sampling = SamplingConfig(temperature=0, max_tokens=8)
        shown = completer.complete(CompletionRequest(prefix, "\n", mode="line", sampling=sampling))
        if answers:  # the model's own answers were all dropped: the listed word is what shows
            assert [s.text for s in shown] == [s.text for s in answers[0]] == [ranked[0].text]
            fell_back += 1
        for s in shown:  # a word cut by the token budget may go on: not judged
            done = s.finish not in ("time", "length")
            assert unknown_subcommand(prefix, s.text, done, known=program_subcommands) is None
    assert fell_back, "no seed's own answer was dropped and replaced: the test proves nothing"


def test_no_surface_completes_git_to_a_command_it_lacks(bpe_tokenizer) -> None:  # noqa: ANN001
    # Random weights write random words after `git `: the model's own answers include unknown ones
    # (checked below, so the test proves something), and neither the terminal's ghost text nor the
    # completer the editor's server uses shows them.
    cfg = preset("micro", vocab_size=bpe_tokenizer.vocab_size)
    plan = dataclasses.replace(plan_for(torch.device("cpu")), runtime="torch")
    assert git_subcommands() is not None  # listed before the first keystroke, as a session's warm-up would
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
            raw_bad += unknown_subcommand(typed, raw.split("\n")[0], known=program_subcommands) is not None
            got = assistant.suggest(typed, timed=False)
            done = got is not None and got.finish not in ("time", "length")  # else its last word may go on
            assert got is None or unknown_subcommand(typed, got.text, done) is None, (typed, got.text)
            shown = editor.complete(CompletionRequest(f"#!/bin/bash\n{typed}", "\n", mode="line"))
            prefix = f"#!/bin/bash\n{typed}"
            assert all(
                unknown_subcommand(prefix, s.text, s.finish not in ("time", "length")) is None for s in shown
            ), shown
    assert raw_bad, "the model never wrote an unknown subcommand: the test proves nothing"
