"""Where ghost text is drawn: the first line inline (prompt_toolkit's own
`AppendAutoSuggestion`), further lines of a block suggestion dimmed below the input.

prompt_toolkit's processors transform one line at a time and cannot add
lines, so the tail lives in a window of its own placed right under the input.
"""

from __future__ import annotations

from prompt_toolkit.buffer import Buffer
from prompt_toolkit.filters import Condition, has_focus, is_done
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.layout import BufferControl, ConditionalContainer, FormattedTextControl, HSplit, Window
from prompt_toolkit.shortcuts import PromptSession

from bashcoder.repl.suggest import GhostSuggestion

MAX_TAIL_LINES = 12


def tail_lines(buffer: Buffer) -> list[str]:
    """The suggestion's lines after the first, when the cursor is where it applies."""
    s = buffer.suggestion
    if not isinstance(s, GhostSuggestion) or not s.rest or not buffer.document.is_cursor_at_the_end:
        return []
    lines = s.rest[1:].split("\n")
    if len(lines) > MAX_TAIL_LINES:
        lines = [*lines[: MAX_TAIL_LINES - 1], f"... (+{len(lines) - MAX_TAIL_LINES + 1} lines)"]
    return lines


def ghost_tail(buffer: Buffer, indent: int) -> ConditionalContainer:
    """A window showing `tail_lines(buffer)`, indented like continuation lines."""

    def fragments() -> StyleAndTextTuples:
        lines = tail_lines(buffer)
        return [("class:ghost-tail", "\n".join(" " * indent + line for line in lines))]

    return ConditionalContainer(
        Window(FormattedTextControl(fragments), dont_extend_height=True, wrap_lines=True),
        filter=_tail_shown(buffer),
    )


def _tail_shown(buffer: Buffer) -> Condition:
    # Not while the Tab menu is open: the menu floats over the space under the input.
    return (
        Condition(lambda: bool(tail_lines(buffer)) and buffer.complete_state is None)
        & has_focus(buffer)
        & ~is_done
    )


def install_ghost_tail(session: PromptSession[str], indent: int) -> ConditionalContainer:
    """Put the tail window right below the session's input (above its toolbars).

    With a bottom toolbar prompt_toolkit gives the input every row down to the toolbar, so a
    window placed after it would sit at the screen's foot, far from the cursor; while a tail is
    shown the input keeps to its own lines and an empty window after the tail takes the rest.
    """
    root = session.layout.container
    buffer = session.default_buffer
    tail = ghost_tail(buffer, indent)
    if isinstance(root, HSplit):
        shown = _tail_shown(buffer)
        for window in session.layout.find_all_windows():
            if isinstance(window.content, BufferControl) and window.content.buffer is buffer:
                window.dont_extend_height = shown
        root.children[1:1] = [tail, ConditionalContainer(Window(), filter=shown)]
    return tail
