"""The Tab menu: history matches and the model's candidates together, each row marked by its source.

History rows come first under the default strategy (`↑`, "history"); model
candidates follow, parseable ones first, marked ✓/✗ by `bash -n`. A
prompt_toolkit `Completer` that answers only when completion is asked for
explicitly (Tab), never while typing. Wrap it in `ThreadedCompleter` (the
session's `complete_in_thread=True`) so the menu is computed off the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completion
from prompt_toolkit.completion import Completer as PromptCompleter
from prompt_toolkit.document import Document

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Stale
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.check import is_meta
from bashcoder.repl.recall import Recall
from bashcoder.repl.sources import MenuRow, menu_rows

HISTORY_MARK = "↑"
MARKS = {True: "✓", False: "✗", None: "·"}
META = {True: "parses", False: "syntax error", None: "unchecked"}
DISPLAY_CHARS = 60


def menu_entry(row: MenuRow) -> Completion:
    """A menu row: the source's mark, the first line (with a note when more follow), inserting the full text."""
    first, *more = row.text.split("\n")
    shown = first if len(first) <= DISPLAY_CHARS else first[: DISPLAY_CHARS - 1] + "…"
    if more:
        shown += f"  ⏎ +{len(more)}"
    if row.source == "history":
        return Completion(
            row.text, start_position=0, display=f"{HISTORY_MARK} {shown}", display_meta="history"
        )
    score = f" · {row.mean_logprob:.2f}" if row.mean_logprob is not None else ""
    return Completion(
        row.text,
        start_position=0,
        display=f"{MARKS[row.syntax_ok]} {shown}",
        display_meta=f"model · {META[row.syntax_ok]}{score}",
    )


class CandidateMenu(PromptCompleter):
    """Rows for the text before the cursor, from the history and the model, on Tab only."""

    def __init__(
        self,
        assistant: Assistant,
        current: Callable[[], Document] | None = None,
        on_error: Callable[[str], None] | None = None,
        recall: Callable[[], Recall | None] = lambda: None,
    ) -> None:
        self.assistant = assistant
        self.current = current
        """Returns the input as it is now: when it no longer matches, decoding stops."""
        self.on_error = on_error
        self.recall = recall
        """Returns the history to draw on (None: none)."""

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        """The menu's rows (nothing unless Tab asked)."""
        if not complete_event.completion_requested or is_meta(document.text):
            return  # the model's bash candidates do not fit a `:command`

        def is_stale() -> bool:
            return self.current is not None and self.current().text != document.text

        try:
            found = menu_rows(
                self.assistant,
                self.recall(),
                document.text_before_cursor,
                document.text_after_cursor,
                is_stale,
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
        for row in found:
            yield menu_entry(row)

    def _report(self, message: str) -> None:
        if self.on_error is not None:
            self.on_error(message)
