"""Where a suggestion comes from: the history when it knows the answer, the model when it does not.

`first_suggestion` asks the sources of `Settings.suggest` in order, like
zsh-autosuggestions' `ZSH_AUTOSUGGEST_STRATEGY`: history answers at once
with the newest past command that starts with the input (no model call),
the model otherwise. `menu_rows` gathers both for the Tab menu, each row
marked with its source. Ghost text (`suggest.py`), the Tab menu
(`completion.py`) and `bench/repl_history.py` all call these, so the
benchmark measures what the REPL does. Knows nothing about prompt_toolkit.
"""

from __future__ import annotations

from dataclasses import dataclass

from bashcoder.repl.assistant import Assistant, StaleCheck
from bashcoder.repl.recall import Recall

MENU_HISTORY_ROWS = 4
"""Most history matches in the Tab menu (the model adds `Settings.candidates` more)."""


@dataclass(frozen=True)
class Sourced:
    """A suggestion and where it came from."""

    text: str
    """What to insert after the cursor."""
    source: str
    """'history' or 'model'."""


@dataclass(frozen=True)
class MenuRow:
    """One row of the Tab menu."""

    text: str
    """What to insert after the cursor."""
    source: str
    """'history' or 'model'."""
    syntax_ok: bool | None = None
    """A model candidate's `bash -n` verdict (None: not checked; history rows ran before)."""
    mean_logprob: float | None = None
    """A model candidate's score; None for history rows."""


def _history_applies(assistant: Assistant, recall: Recall | None, after: str) -> bool:
    # History completes whole commands: only at the end of the input, and only while it is on.
    return recall is not None and assistant.settings.history and not after


def first_suggestion(
    assistant: Assistant,
    recall: Recall | None,
    before: str,
    after: str = "",
    is_stale: StaleCheck | None = None,
    timed: bool = True,
) -> Sourced | None:
    """Ghost text for a cursor between `before` and `after`: the first source of the strategy that answers.

    Raises `generate.Stale` when the model is asked and `is_stale()` turns true.
    """
    for source in assistant.settings.strategy:
        if source == "history":
            if recall is not None and _history_applies(assistant, recall, after):
                rest = recall.match(before)
                if rest is not None:
                    return Sourced(rest, "history")
        else:
            found = assistant.suggest(before, after, is_stale, timed)
            if found is not None:
                return Sourced(found.text, "model")
    return None


def menu_rows(
    assistant: Assistant,
    recall: Recall | None,
    before: str,
    after: str = "",
    is_stale: StaleCheck | None = None,
) -> list[MenuRow]:
    """The Tab menu: history matches and model candidates in the strategy's order, no text twice."""
    rows: list[MenuRow] = []
    for source in assistant.settings.strategy:
        if source == "history":
            if recall is not None and _history_applies(assistant, recall, after):
                rows += [MenuRow(rest, "history") for rest in recall.matches(before, MENU_HISTORY_ROWS)]
        else:
            found = assistant.candidates(before, after, is_stale)
            rows += [MenuRow(c.text, "model", c.syntax_ok, c.mean_logprob) for c in found]
    seen: set[str] = set()
    unique = []
    for row in rows:
        if row.text not in seen:
            seen.add(row.text)
            unique.append(row)
    return unique
