"""bench/repl_history.py measures what it claims: a session of real, disjoint command lines, and the
characters a user could take from the ghost text counted right."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from bashcoder.repl.assistant import Assistant
from bashcoder.repl.recall import Recall
from bashcoder.repl.sources import Sourced, first_suggestion

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "corpus.jsonl"


def load_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("repl_history", ROOT / "bench" / "repl_history.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["repl_history"] = module
    spec.loader.exec_module(module)
    return module


bench = load_bench()


def test_a_user_takes_the_whole_line_or_the_words_that_are_right() -> None:
    assert bench.acceptable("ose up -d", "ose up -d") == "ose up -d"
    assert bench.acceptable("ose up -d --build", "ose up -d") == "ose up -d"  # whole words only
    assert bench.acceptable("ose up -d --build", "ose down") == "ose"
    assert bench.acceptable("ose down", "ose up -d") == "ose"
    assert bench.acceptable("xyz", "ose") == ""
    assert bench.acceptable("it\necho next", "it") == "it"  # the first line


def test_typing_against_history_counts_accepted_characters(assistant: Assistant) -> None:
    assistant.settings = assistant.settings.updated("suggest", "history")
    recall = Recall(lambda: ["git commit -m 'first'"])
    tally = bench.type_command(
        "git commit -m 'second'", lambda typed: first_suggestion(assistant, recall, typed)
    )
    # "g" typed, "it commit -m" taken (whole words up to the one that differs), " 'second'" typed; the
    # history kept suggesting "... 'first'" at "git commit -m", "git commit -m " and "git commit -m '"
    assert (tally.chars, tally.accepted, tally.from_history, tally.from_model) == (22, 12, 4, 0)
    none = bench.type_command("ls", lambda typed: None)
    assert (none.accepted, none.asked) == (0, 1)
    model = bench.type_command("ls -la", lambda typed: Sourced(" -la", "model") if typed == "ls" else None)
    assert (model.accepted, model.from_model) == (4, 1)


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.exists(), reason="needs the collected corpus data/corpus.jsonl")
def test_the_session_is_real_commands_with_a_test_set_disjoint_from_the_history() -> None:
    history, typed = bench.build_session(bench.command_lines(CORPUS), 1000, 200, seed=0)
    assert len(history) >= 1000 and len(typed) == 200
    assert not set(history) & set(typed)
    assert {bench.tool_of(c) for c in typed} <= {bench.tool_of(c) for c in history}  # same tools, new lines
    assert bench.build_session(bench.command_lines(CORPUS), 1000, 200, seed=0) == (history, typed)
