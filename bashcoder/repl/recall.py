"""Past commands the suggestions draw on: the shell's history file, then this REPL's own inputs.

`Recall` reads the shell's file once, at the first need (so `--no-history`
never opens it), keeps it in memory, and answers the history strategy's
question: the newest entry that starts with what the user typed. It writes
nothing and logs nothing. Thread-safe: suggestions ask from worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class Recall:
    """Entries oldest first: the shell's history, then this REPL's inputs (this session's included)."""

    def __init__(
        self,
        shell: Callable[[], list[str]],
        repl: Callable[[], Iterable[str]] = list,
    ) -> None:
        self._load_shell = shell
        """Returns the shell's entries, oldest first; called once."""
        self._shell: list[str] | None = None
        self._repl = repl
        """Returns this REPL's commands so far, oldest first (read afresh each time: it grows)."""
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the shell's history file has been read (it never is while history is off)."""
        return self._shell is not None

    def shell_entries(self) -> list[str]:
        """The shell history file's entries (read on the first call)."""
        with self._lock:
            if self._shell is None:
                self._shell = list(self._load_shell())
            return self._shell

    def entries(self) -> list[str]:
        """Every entry, oldest first."""
        return self.shell_entries() + list(self._repl())

    def matches(self, typed: str, limit: int) -> list[str]:
        """What completes `typed` into a past command: distinct rests, newest entry first, at most `limit`."""
        if not typed.strip() or limit <= 0:
            return []
        found: list[str] = []
        for entry in reversed(self.entries()):
            if len(entry) > len(typed) and entry.startswith(typed):
                rest = entry[len(typed) :]
                if rest not in found:
                    found.append(rest)
                    if len(found) == limit:
                        break
        return found

    def match(self, typed: str) -> str | None:
        """The rest of the newest entry that starts with `typed` (and is longer), else None."""
        found = self.matches(typed, 1)
        return found[0] if found else None

    def recent(self, count: int) -> list[str]:
        """The last `count` entries, oldest first."""
        return self.entries()[-count:] if count > 0 else []
