"""The Tab menu: N sampled candidates, parseable ones first, each with its syntax mark.

A prompt_toolkit `Completer` that answers only when completion is asked for
explicitly (Tab), never while typing. Wrap it in `ThreadedCompleter` (the
session's `complete_in_thread=True`) so the menu is computed off the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completion
from prompt_toolkit.completion import Completer as PromptCompleter
from prompt_toolkit.document import Document

from bashcoder.engine.completer import Suggestion
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Stale
from bashcoder.repl.assistant import Assistant

MARKS = {True: "✓", False: "✗", None: "·"}
META = {True: "parses", False: "syntax error", None: "unchecked"}
DISPLAY_CHARS = 60


def menu_entry(s: Suggestion) -> Completion:
    """A menu row: the mark, the first line (with a note when more follow), inserting the full text."""
    first, *more = s.text.split("\n")
    shown = first if len(first) <= DISPLAY_CHARS else first[: DISPLAY_CHARS - 1] + "…"
    if more:
        shown += f"  ⏎ +{len(more)}"
    return Completion(
        s.text,
        start_position=0,
        display=f"{MARKS[s.syntax_ok]} {shown}",
        display_meta=f"{META[s.syntax_ok]} · {s.mean_logprob:.2f}",
    )


class CandidateMenu(PromptCompleter):
    """Candidates for the text before the cursor, from the model, on Tab only."""

    def __init__(
        self,
        assistant: Assistant,
        current: Callable[[], Document] | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.assistant = assistant
        self.current = current
        """Returns the input as it is now: when it no longer matches, decoding stops."""
        self.on_error = on_error

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        if not complete_event.completion_requested:
            return

        def is_stale() -> bool:
            return self.current is not None and self.current().text != document.text

        try:
            found = self.assistant.candidates(
                document.text_before_cursor, document.text_after_cursor, is_stale
            )
        except Stale:
            return
        except BashcoderError as exc:
            self._report(str(exc))
            return
        except Exception as exc:  # a worker thread must never take the prompt down
            self._report(f"candidates failed: {type(exc).__name__}: {exc}")
            return
        if not found:
            self._report("no candidates here; type a little more and press Tab again.")
        for s in found:
            yield menu_entry(s)

    def _report(self, message: str) -> None:
        if self.on_error is not None:
            self.on_error(message)
