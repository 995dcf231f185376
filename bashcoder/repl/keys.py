"""The REPL's key bindings, each a small named function.

| key                      | does                                                        |
|--------------------------|-------------------------------------------------------------|
| → / End / Ctrl-E / Ctrl-F| accept the whole suggestion (else: move as usual)           |
| Alt-F                    | accept the suggestion's next word (else: forward word)      |
| Ctrl-→ / Alt-L           | accept the suggestion's next line (else: as usual)          |
| Tab / Shift-Tab          | open the candidate menu / move through it; indent on a blank continuation line |
| Enter                    | run when the input is complete bash, else continue on a new line |
| Alt-Enter                | always insert a newline                                     |
| Ctrl-G                   | write the block the `# comment` at the cursor describes     |
| Ctrl-C                   | while Ctrl-G runs: cancel it (else: clear the input)        |

Ctrl-→ is the line key because terminals send it distinctly; Alt-L is the
fallback where a terminal or multiplexer eats Ctrl-→.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from prompt_toolkit.application import get_app
from prompt_toolkit.buffer import Buffer
from prompt_toolkit.filters import Condition, has_completions
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

from bashcoder.repl.blockgen import BlockGeneration
from bashcoder.repl.check import Verdict, classify
from bashcoder.repl.suggest import GhostSuggestion, full_text

INDENT = "    "
_WORD = re.compile(r"\s*(?:[^\s/]+/?|/)|\s+")
_OPENS_BLOCK = re.compile(r"(\bthen|\bdo|\belse|\{|\(|\bin)\s*$")


def next_word(text: str) -> str:
    """The start of `text` up to and including its next word (a path splits after each '/')."""
    m = _WORD.match(text)
    return m.group(0) if m else text


def next_line(text: str) -> str:
    """The start of `text` up to its next newline; a leading newline takes the line after it."""
    start = 1 if text.startswith("\n") else 0
    end = text.find("\n", start)
    return text if end < 0 else text[:end]


def continuation_indent(line: str) -> str:
    """Indentation for the line after `line`: the same, one level deeper after an opener."""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    return indent + INDENT if _OPENS_BLOCK.search(line.split(" #", 1)[0].rstrip()) else indent


def accept_part(buffer: Buffer, part: Callable[[str], str]) -> None:
    """Insert `part(suggestion)` and keep the rest of the suggestion on screen."""
    s = buffer.suggestion
    if s is None:
        return
    text = full_text(s)
    piece = part(text)
    buffer.insert_text(piece)
    rest = text[len(piece) :]
    source = s.source if isinstance(s, GhostSuggestion) else "model"
    buffer.suggestion = GhostSuggestion.of(rest, source) if rest else None


def _suggestion_available() -> bool:
    buffer = get_app().current_buffer
    s = buffer.suggestion
    return s is not None and bool(full_text(s)) and buffer.document.is_cursor_at_the_end


suggestion_available = Condition(_suggestion_available)


def repl_bindings(
    blockgen: BlockGeneration,
    verdict: Callable[[str], Verdict | None] | None = None,
) -> KeyBindings:
    """Key bindings of the REPL; `verdict(text)` may answer Enter from a cache (None = unknown)."""
    kb = KeyBindings()
    generating = Condition(lambda: blockgen.running)

    @kb.add("right", filter=suggestion_available)
    @kb.add("end", filter=suggestion_available)
    @kb.add("c-e", filter=suggestion_available)
    @kb.add("c-f", filter=suggestion_available)
    def accept_all(event: KeyPressEvent) -> None:
        """Accept the whole suggestion, all its lines."""
        accept_part(event.current_buffer, lambda text: text)

    @kb.add("escape", "f", filter=suggestion_available)
    def accept_word(event: KeyPressEvent) -> None:
        """Accept the suggestion up to the end of its next word."""
        accept_part(event.current_buffer, next_word)

    @kb.add("c-right", filter=suggestion_available)
    @kb.add("escape", "l", filter=suggestion_available)
    def accept_line(event: KeyPressEvent) -> None:
        """Accept the suggestion up to the end of its current line."""
        accept_part(event.current_buffer, next_line)

    @kb.add("tab", filter=~generating)
    def menu_or_indent(event: KeyPressEvent) -> None:
        """Open the candidate menu (next entry when open); indent on a blank continuation line."""
        b = event.current_buffer
        if b.complete_state:
            b.complete_next()
            return
        doc = b.document
        if doc.cursor_position_row > 0 and not doc.current_line_before_cursor.strip():
            b.insert_text(INDENT, fire_event=False)
            return
        b.start_completion(select_first=False)

    @kb.add("s-tab", filter=has_completions)
    def menu_previous(event: KeyPressEvent) -> None:
        """Move up the candidate menu."""
        event.current_buffer.complete_previous()

    @kb.add("enter", filter=~generating)
    def submit_or_continue(event: KeyPressEvent) -> None:
        """Run the input when it is complete bash (or a :command); else start a continuation line."""
        b = event.current_buffer
        if b.complete_state and b.complete_state.current_completion is not None:
            b.complete_state = None  # take the highlighted candidate, keep editing
            return
        text = b.text
        found = verdict(text) if verdict is not None else None
        if found is None:
            found = classify(text)
        if found.submits:
            b.validate_and_handle()
            return
        b.cursor_position = len(text)
        # No indent inside a here-document: `EOF` closes it only at the line's start (`<<-`: tabs).
        indent = "" if found.in_heredoc else continuation_indent(b.document.lines[-1])
        b.insert_text("\n" + indent, fire_event=False)

    @kb.add("escape", "enter")
    def newline(event: KeyPressEvent) -> None:
        """Insert a newline, whatever the input holds."""
        b = event.current_buffer
        b.insert_text("\n" + continuation_indent(b.document.current_line_before_cursor), fire_event=False)

    @kb.add("c-g", filter=~generating)
    def generate_block(event: KeyPressEvent) -> None:
        """Write the block the `# comment` at the cursor describes, streamed and editable."""
        blockgen.start(event.current_buffer)

    @kb.add("c-c", filter=generating)
    def cancel_generation(event: KeyPressEvent) -> None:
        """Stop the running Ctrl-G generation and restore the input."""
        blockgen.cancel()

    @kb.add(Keys.Vt100MouseEvent)
    def ignore_mouse_report(event: KeyPressEvent) -> None:
        """The REPL asks for no mouse reports, so this is a pasted or typed escape sequence that
        looks like one (`ESC[31m`): prompt_toolkit's handler raised on it and ate the next key."""

    return kb
