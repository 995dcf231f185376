"""Ghost text: the suggestion after the cursor, from the history or the model, computed off the UI thread.

- `SourcedAutoSuggest` asks `sources.first_suggestion` (history first, then
  the model, as the strategy says); prompt_toolkit's `ThreadedAutoSuggest`
  runs it on a worker thread so typing never waits, and each decoding step
  checks whether the input has moved on (then it stops).
- `SuggestionKeeper` keeps the suggestion on screen while the user types what
  it begins with: prompt_toolkit drops the suggestion on every text change, so
  without it the ghost text would flicker away at each keystroke.
- `GhostSuggestion` splits a multi-line suggestion: its first line shows
  inline (`text`) and the other lines (`rest`) show dimmed below the input;
  it remembers its source for the toolbar.
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.auto_suggest import AutoSuggest, ConditionalAutoSuggest, Suggestion, ThreadedAutoSuggest
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.document import Document
from prompt_toolkit.filters import FilterOrBool

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Stale
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.check import is_meta
from bashcoder.repl.meta import complete_meta
from bashcoder.repl.recall import Recall
from bashcoder.repl.sources import first_suggestion


class GhostSuggestion(Suggestion):
    """A suggestion shown as its first line inline plus further lines below the input."""

    def __init__(self, text: str, rest: str = "", source: str = "model") -> None:
        super().__init__(text)
        self.rest = rest
        """Everything after the first line, starting with its newline ('' for one line)."""
        self.source = source
        """'history' or 'model': what the toolbar names."""

    @property
    def full(self) -> str:
        """The whole suggestion, all its lines."""
        return self.text + self.rest

    @classmethod
    def of(cls, text: str, source: str = "model") -> GhostSuggestion:
        """Split `text` into its first line and the rest."""
        first, nl, rest = text.partition("\n")
        return cls(first, nl + rest, source)

    def __repr__(self) -> str:
        return f"GhostSuggestion({self.text!r}, {self.rest!r}, {self.source!r})"


def full_text(suggestion: Suggestion) -> str:
    """All of a suggestion's text, whatever its class."""
    return suggestion.full if isinstance(suggestion, GhostSuggestion) else suggestion.text


class SourcedAutoSuggest(AutoSuggest):
    """Ghost text at the end of the input from the strategy's sources (blocking; wrap it in a thread)."""

    def __init__(
        self,
        assistant: Assistant,
        recall: Callable[[], Recall | None] = lambda: None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.assistant = assistant
        self.recall = recall
        """Returns the history to draw on (None: none)."""
        self.on_error = on_error

    def get_suggestion(self, buffer: Buffer, document: Document) -> Suggestion | None:
        # Read `document` (what the user had when this started), never `buffer.text`.
        if not document.is_cursor_at_the_end or not document.text.strip():
            return None
        if is_meta(document.text):  # `:se` -> `:set `, from the REPL's own table, not the model
            rest = complete_meta(document.text, self.assistant.settings.names())
            return GhostSuggestion.of(rest, "meta") if rest else None

        def is_stale() -> bool:
            return buffer.text != document.text or buffer.cursor_position != document.cursor_position

        try:
            found = first_suggestion(
                self.assistant,
                self.recall(),
                document.text_before_cursor,
                document.text_after_cursor,
                is_stale,
            )
        except Stale:
            return None
        except BashcoderError as exc:
            self._report(str(exc))
            return None
        except Exception as exc:  # a worker thread must never take the prompt down
            self._report(f"suggestion failed: {type(exc).__name__}: {exc}")
            return None
        return GhostSuggestion.of(found.text, found.source) if found is not None else None

    def _report(self, message: str) -> None:
        if self.on_error is not None:
            self.on_error(message)


def sourced_auto_suggest(
    assistant: Assistant,
    recall: Callable[[], Recall | None] = lambda: None,
    enabled: FilterOrBool = True,
    on_error: Callable[[str], None] | None = None,
) -> AutoSuggest:
    """The REPL's auto-suggester: threaded, and switchable live through `enabled`."""
    return ConditionalAutoSuggest(
        ThreadedAutoSuggest(SourcedAutoSuggest(assistant, recall, on_error)), enabled
    )


class SuggestionKeeper:
    """Keeps the ghost text while the user types the characters it starts with."""

    def __init__(self) -> None:
        self._shown: tuple[str, GhostSuggestion] | None = None
        self.kept = 0
        """How many keystrokes were answered by keeping the suggestion (for tests and benchmarks)."""

    def attach(self, buffer: Buffer) -> None:
        """Follow `buffer`'s suggestions and keystrokes."""
        buffer.on_suggestion_set += self._remember
        buffer.on_text_insert += self._keep

    def _remember(self, buffer: Buffer) -> None:
        s = buffer.suggestion
        if s is None or not buffer.document.is_cursor_at_the_end:
            self._shown = None
            return
        ghost = s if isinstance(s, GhostSuggestion) else GhostSuggestion(s.text)
        self._shown = (buffer.text, ghost)

    def _keep(self, buffer: Buffer) -> None:
        shown, self._shown = self._shown, None
        doc = buffer.document
        if shown is None or not doc.is_cursor_at_the_end or buffer.suggestion is not None:
            return
        before, ghost = shown
        if not doc.text.startswith(before):
            return
        typed = doc.text[len(before) :]
        if not typed or not ghost.text.startswith(typed) or len(ghost.text) == len(typed):
            return  # a new line is due, or nothing is left on this one: ask the model
        kept = GhostSuggestion(ghost.text[len(typed) :], ghost.rest, ghost.source)
        buffer.suggestion = kept
        self._shown = (doc.text, kept)
        self.kept += 1
