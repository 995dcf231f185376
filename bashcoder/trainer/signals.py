"""Stopping a run cleanly: SIGINT/SIGTERM only raise a flag that the loop reads between steps,
so a save is never cut in half; a second SIGINT interrupts at once."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StopSignals:
    """SIGINT/SIGTERM set a flag; a second SIGINT interrupts at once."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._old: dict[int, object] = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.received is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = signal.Signals(signum).name

    @contextmanager
    def installed(self) -> Iterator[StopSignals]:
        # Handlers can only be set from the main thread (tests may train elsewhere).
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, old in self._old.items():
                signal.signal(sig, old)  # type: ignore[arg-type]
