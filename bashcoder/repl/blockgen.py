"""Ctrl-G: write the block a `# comment` describes, streamed into the input, editable before it runs.

The model runs on a worker thread; each piece of text it produces is written
into the buffer on the UI thread. Any edit by the user stops the generation
and keeps what is there; Ctrl-C stops it and restores the input as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from prompt_toolkit.application import get_app
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.document import Document
from prompt_toolkit.eventloop import run_in_executor_with_context

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Stale
from bashcoder.repl.assistant import Assistant


@dataclass(frozen=True)
class Anchor:
    """Where the block goes: the input split around the cursor, after the comment line."""

    before: str
    """Input up to the cursor, ending with the comment line and a newline (plus indentation)."""
    after: str
    """Input after the cursor."""


def find_anchor(doc: Document) -> Anchor:
    """The place under the comment the cursor is on (or just below); a `BashcoderError` if none."""
    lines = doc.lines
    row = doc.cursor_position_row
    line = lines[row]
    if line.lstrip().startswith("#"):
        end = doc.translate_row_col_to_index(row, len(line))
        indent = line[: len(line) - len(line.lstrip())]
        return Anchor(doc.text[:end] + "\n" + indent, doc.text[end:])
    if not line.strip() and row > 0 and lines[row - 1].lstrip().startswith("#"):
        start = doc.translate_row_col_to_index(row, 0)
        return Anchor(doc.text[:start] + line, doc.text[start + len(line) :])
    raise BashcoderError("Ctrl-G writes the block a comment describes: type `# what it should do` first.")


class BlockGeneration:
    """At most one Ctrl-G generation at a time, for one buffer."""

    def __init__(self, assistant: Assistant, on_message: Callable[[str], None] | None = None) -> None:
        self.assistant = assistant
        self.on_message = on_message
        self.running = False
        self._cancelled = False
        self._user_edits = 0
        self._writing = False
        self._original: Document | None = None
        self.task: asyncio.Future[None] | None = None

    def start(self, buffer: Buffer) -> None:
        """Begin generating under the comment at the cursor (a message explains when there is none)."""
        if self.running:
            return
        try:
            anchor = find_anchor(buffer.document)
        except BashcoderError as exc:
            self._say(str(exc))
            return
        buffer.save_to_undo_stack()
        self._original = buffer.document
        self._cancelled = False
        self._user_edits = 0
        self.running = True
        buffer.on_text_changed += self._count_edit
        self._write(buffer, anchor, "")
        self.task = get_app().create_background_task(self._run(buffer, anchor))

    def cancel(self) -> None:
        """Stop now and restore the input as it was before Ctrl-G."""
        self._cancelled = True

    def _count_edit(self, buffer: Buffer) -> None:
        if not self._writing:
            self._user_edits += 1

    def _is_stale(self) -> bool:
        return self._cancelled or self._user_edits > 0

    def _write(self, buffer: Buffer, anchor: Anchor, text: str) -> None:
        if self._is_stale():
            return
        self._writing = True
        try:
            buffer.document = Document(anchor.before + text + anchor.after, len(anchor.before) + len(text))
        finally:
            self._writing = False

    async def _run(self, buffer: Buffer, anchor: Anchor) -> None:
        app = get_app()
        loop = asyncio.get_running_loop()

        def stream(text: str) -> None:
            loop.call_soon_threadsafe(self._write, buffer, anchor, text)

        def work() -> str:
            return self.assistant.generate_block(anchor.before, anchor.after, stream, self._is_stale)

        try:
            block = await run_in_executor_with_context(work)
            await asyncio.sleep(0)  # let streamed writes queued before the result land first
            self._write(buffer, anchor, block)
            if not block.strip():
                self._say("the model wrote nothing for this comment; rephrase it or press Ctrl-G again.")
        except Stale:
            pass
        except BashcoderError as exc:
            self._say(str(exc))
        except Exception as exc:  # never let a background task break the prompt
            self._say(f"generation failed: {type(exc).__name__}: {exc}")
        finally:
            buffer.on_text_changed -= self._count_edit
            if self._cancelled and self._user_edits == 0 and self._original is not None:
                buffer.document = self._original
            self.running = False
            app.invalidate()

    def _say(self, message: str) -> None:
        if self.on_message is not None:
            self.on_message(message)
