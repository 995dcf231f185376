"""How the REPL writes messages: one `Echo` callable, styled, swappable in tests.

Command output never passes through here: commands write to the terminal directly.
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit import print_formatted_text
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.output import Output
from prompt_toolkit.styles import Style

Echo = Callable[[str, str], None]
"""echo(text, style): style is '' or one of the classes in `STYLE` ('info', 'error', 'warn', 'ok')."""

STYLE = Style.from_dict(
    {
        "info": "#888888",
        "ok": "ansigreen",
        "error": "ansired",
        "warn": "ansiyellow bold",
        "auto-suggestion": "#7a7a7a",
        "ghost-tail": "#7a7a7a",
        "bottom-toolbar": "noreverse bg:#262626 #bcbcbc",
        "toolbar.bad": "ansired",
        "toolbar.good": "ansigreen",
        "toolbar.busy": "ansiyellow",
        "completion-menu.completion": "bg:#303030 #d0d0d0",
        "completion-menu.completion.current": "bg:#5f87af #ffffff",
        "completion-menu.meta.completion": "bg:#262626 #9e9e9e",
        "completion-menu.meta.completion.current": "bg:#5f87af #ffffff",
    }
)


def terminal_echo(output: Output | None = None) -> Echo:
    """An Echo that prints styled lines to the terminal (or to `output`)."""

    def echo(text: str, style: str = "") -> None:
        fragments = FormattedText([(f"class:{style}" if style else "", text)])
        print_formatted_text(fragments, style=STYLE, output=output)

    return echo


def list_echo(lines: list[tuple[str, str]]) -> Echo:
    """An Echo that appends (text, style) to `lines` (tests, scripted mode)."""

    def echo(text: str, style: str = "") -> None:
        lines.append((text, style))

    return echo
