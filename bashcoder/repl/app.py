"""The interactive REPL: a prompt_toolkit `PromptSession` wired to the model, and its loop.

Wiring only: ghost text comes from `suggest` (history or model, `sources`),
the Tab menu from `completion`, past commands from `recall`, keys from
`keys`, Ctrl-G from `blockgen`, the toolbar from `toolbar`, commands run
through `runner` behind the `safety` gate, `:commands` go to `meta`. The
loop reads one input, then runs it, a meta command, or nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.input import Input
from prompt_toolkit.input.typeahead import get_typeahead, store_typeahead
from prompt_toolkit.keys import Keys
from prompt_toolkit.lexers import PygmentsLexer
from prompt_toolkit.output import Output
from prompt_toolkit.shortcuts import CompleteStyle
from pygments.lexers.shell import BashLexer

from bashcoder.repl.assistant import Assistant
from bashcoder.repl.blockgen import BlockGeneration
from bashcoder.repl.check import is_meta
from bashcoder.repl.completion import CandidateMenu
from bashcoder.repl.config import ReplConfig
from bashcoder.repl.context import snapshot
from bashcoder.repl.ghost import install_ghost_tail
from bashcoder.repl.keys import repl_bindings
from bashcoder.repl.meta import MetaEnv, run_meta
from bashcoder.repl.printing import STYLE, Echo, terminal_echo
from bashcoder.repl.recall import Recall
from bashcoder.repl.runner import Shell
from bashcoder.repl.safety import dangers
from bashcoder.repl.shellhistory import read_history
from bashcoder.repl.suggest import GhostSuggestion, SuggestionKeeper, sourced_auto_suggest
from bashcoder.repl.toolbar import ParseWatcher, ToolbarInfo, render

PROMPT = "$ "
CONTINUATION = "> "


def continuation(width: int, line_number: int, wrap_count: int) -> str:
    """The prefix of an input row after the first: `> ` on a new line of the command, nothing on a row
    that only wraps a line too long for the terminal (it reads as one line, as in a shell)."""
    return "" if wrap_count > 0 else CONTINUATION


def open_history(path: Path, warn: Callable[[str], None] = lambda _: None) -> History:
    """File history at `path` (directories created); in memory, said once through `warn`, when
    the file cannot be read and appended to (a directory, no permission): prompt_toolkit would
    raise at every prompt and every Enter."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"), path.open("rb"):
            pass
    except OSError as exc:
        warn(
            f"history: cannot use {path} ({exc.strerror or exc}); this session's inputs are kept in "
            "memory only. Fix the file or pass --history FILE."
        )
        return InMemoryHistory()
    return FileHistory(str(path))


_SUBMIT_KEYS = (Keys.ControlM, Keys.ControlJ, Keys.Enter)
# `exit` in the REPL ends only the `bash -c` that runs it; a user typing it means to leave.
_EXIT = re.compile(r"\s*(?:exit|logout)(?:\s+(?P<status>\d+))?\s*;?\s*(?:#.*)?")


@dataclass
class Notice:
    """The toolbar's one-off message, cleared when the input changes."""

    text: str = ""


@dataclass
class Repl:
    """One interactive session."""

    assistant: Assistant
    config: ReplConfig = field(default_factory=ReplConfig)
    shell: Shell = field(default_factory=Shell)
    input: Input | None = None
    """None = the terminal; tests pass `create_pipe_input()`."""
    output: Output | None = None
    """None = the terminal; tests pass `DummyOutput()`."""
    echo: Echo | None = None
    """Where messages go; None = printed to the terminal."""
    history: History | None = None
    """None = the file in the XDG state directory."""
    accepted: list[str] = field(default_factory=list)
    """Commands accepted so far (what `:save` writes)."""
    last_status: int = 0
    """The exit status of the last command run (what a bare `exit` leaves with, as in bash)."""
    exit_status: int = 0
    """The REPL's own exit status: `exit N` gives N (mod 256, as bash), a bare `exit` or `logout`
    the last command's, Ctrl-D and `:quit` 0."""

    def __post_init__(self) -> None:
        if self.echo is None:
            self.echo = terminal_echo(self.output)
        if self.history is None:
            self.history = open_history(self.config.history_path(), lambda m: self.echo(m, "warn"))
        self.notice = Notice()
        self.suggest_enabled = self.config.ghost_text
        history = self.history
        self.recall = Recall(
            lambda: read_history(self.config.shell_history_path()),
            lambda: [s for s in history.get_strings() if not is_meta(s)],
        )
        self.blockgen = BlockGeneration(self.assistant, self._notify)
        self.keeper = SuggestionKeeper()
        self.session = self._build_session()
        self.parse = ParseWatcher(self.session.app.invalidate)
        self.session.key_bindings = repl_bindings(self.blockgen, self.parse.verdict)
        buffer = self.session.default_buffer
        self.keeper.attach(buffer)
        buffer.on_text_changed += self._clear_notice
        self.ghost_tail = install_ghost_tail(self.session, len(PROMPT))

    # ---- wiring ------------------------------------------------------------
    def _build_session(self) -> PromptSession[str]:
        return PromptSession(
            message=PROMPT,
            multiline=True,
            prompt_continuation=continuation,
            lexer=PygmentsLexer(BashLexer),
            auto_suggest=sourced_auto_suggest(
                self.assistant, self._recall, Condition(lambda: self.suggest_enabled), self._notify
            ),
            completer=CandidateMenu(
                self.assistant, lambda: self.session.default_buffer.document, self._notify, self._recall
            ),
            complete_in_thread=True,
            complete_while_typing=False,
            complete_style=CompleteStyle.COLUMN,
            reserve_space_for_menu=0,
            history=self.history,
            enable_history_search=False,
            bottom_toolbar=self._toolbar,
            style=STYLE,
            include_default_pygments_style=True,
            input=self.input,
            output=self.output,
            erase_when_done=False,
        )

    def _recall(self) -> Recall | None:
        """The past commands suggestions may use; None while history is off (the file stays unread)."""
        return self.recall if self.assistant.settings.history else None

    def _notify(self, message: str) -> None:
        self.notice.text = message
        app = self.session.app
        if app.is_running:
            app.invalidate()

    def _clear_notice(self, _buffer: object) -> None:
        self.notice.text = ""

    def _toolbar(self) -> StyleAndTextTuples:
        a = self.assistant
        buffer = self.session.default_buffer
        text = buffer.text
        shown = buffer.suggestion
        return render(
            ToolbarInfo(
                model=a.model_name,
                device=a.device_name,
                temperature=a.settings.temperature,
                latency=a.last_latency,
                parse=self.parse.verdict(text),
                busy=self.blockgen.running,
                execute=self.config.execute,
                message=self.notice.text,
                source=shown.source if isinstance(shown, GhostSuggestion) and shown.text else None,
                history=a.settings.history,
            )
        )

    # ---- the loop ------------------------------------------------------------
    def _recent_commands(self) -> list[str]:
        """The commands the model's prompt carries: the last ones of the history (the shell's file, then
        this REPL's), or of this session alone while history is off."""
        count = self.config.context_commands
        recall = self._recall()
        if recall is not None:
            return recall.recent(count)
        return self.accepted[-count:] if count > 0 else []

    def _refresh_context(self) -> None:
        c = self.config
        self.assistant.context = snapshot(
            self.shell.cwd, self._recent_commands(), c.context_files, c.context_commands
        )
        self.assistant.ghost.forget()

    def meta_env(self) -> MetaEnv:
        assert self.echo is not None and self.history is not None
        history = self.history
        return MetaEnv(
            assistant=self.assistant,
            echo=self.echo,
            accepted=self.accepted,
            history=lambda: list(history.get_strings()),
            cwd=lambda: self.shell.cwd,
            clear=self._clear_screen,
        )

    def _clear_screen(self) -> None:
        out = self.session.app.output
        out.erase_screen()
        out.cursor_goto(0, 0)
        out.flush()

    async def read(self) -> str | None:
        """One input from the user; '' after Ctrl-C, None after Ctrl-D."""
        self._refresh_context()
        try:
            return await self.session.prompt_async()
        except KeyboardInterrupt:
            return ""
        except EOFError:
            return None

    async def confirm(self, reasons: list[str]) -> bool:
        """Ask for an explicit `yes` before a destructive command."""
        assert self.echo is not None
        self.echo("This command looks destructive:", "warn")
        for reason in reasons:
            self.echo(f"  - {reason}", "warn")
        # Only an answer typed after the warning counts: `rm -rf x⏎yes⏎` typed fast must not confirm.
        get_typeahead(self.session.input)
        ask: PromptSession[str] = PromptSession(input=self.input, output=self.output)
        try:
            answer = await ask.prompt_async("Type yes to run it anyway: ")
        except (KeyboardInterrupt, EOFError):
            answer = ""
        if answer.strip().lower() == "yes":
            return True
        self.echo("not run.", "info")
        return False

    async def handle(self, text: str) -> bool:
        """Act on one input; returns True when the REPL should exit."""
        assert self.echo is not None
        if not text.strip():
            return False
        if is_meta(text):
            return run_meta(text, self.meta_env())
        if leaving := _EXIT.fullmatch(text):
            status = leaving.group("status")
            self.exit_status = int(status) % 256 if status is not None else self.last_status
            return True
        found = dangers(text)
        if found and self.config.execute and not await self.confirm([d.reason for d in found]):
            return False
        self.accepted.append(text)
        if not self.config.execute:
            self.echo("(--no-exec: not run)", "info")
            return False
        self._defuse_typeahead()
        try:
            result = self.shell.run(text)
        except OSError as exc:
            self.echo(f"error: cannot run bash ({exc.strerror}); is bash installed and on PATH?", "error")
            return False
        self.last_status = result.exit_code
        self._fresh_line()
        self.echo(result.describe(), "ok" if result.exit_code == 0 else "error")
        return False

    def _fresh_line(self) -> None:
        """Put the status on a line of its own after output that did not end in a newline, as
        zsh's PROMPT_SP does: a reverse-video `%` and a row of spaces wrap only from mid-line,
        then a carriage return; at a line start they are overwritten."""
        out = self.session.app.output
        columns = out.get_size().columns
        if columns >= 2:
            out.write_raw("\x1b[7m%\x1b[27m" + " " * (columns - 1) + "\r")
            out.flush()

    def _defuse_typeahead(self) -> None:
        """Keys typed after Enter, before the command took the terminal, come back as text in the
        next prompt without their Enter: prompt_toolkit read them (the command never will) and
        would replay them, Enter included, as a command the user never saw."""
        keys = get_typeahead(self.session.input)
        store_typeahead(self.session.input, [k for k in keys if k.key not in _SUBMIT_KEYS])

    async def run_async(self) -> None:
        """Read, act, repeat until `:quit` or Ctrl-D."""
        try:
            while True:
                text = await self.read()
                if text is None or await self.handle(text):
                    break
        finally:
            self.parse.close()

    def run(self) -> int:
        """Run the session; returns its exit status (`exit_status`)."""
        asyncio.run(self.run_async())
        return self.exit_status
