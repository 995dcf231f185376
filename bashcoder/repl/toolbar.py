"""The bottom toolbar: model, device, temperature, where the ghost text came from, whether the input parses.

`render` is a pure function of a `ToolbarInfo`. `ParseWatcher` checks the
input with `bash -n` on a worker thread whenever it changes, so rendering
never waits for a subprocess.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from prompt_toolkit.formatted_text import StyleAndTextTuples

from bashcoder.repl.assistant import Latency
from bashcoder.repl.check import Verdict, classify


@dataclass(frozen=True)
class ToolbarInfo:
    """Everything the toolbar shows."""

    model: str
    """Model directory name."""
    device: str
    """cpu, cuda or mps."""
    temperature: float
    """Ghost-text temperature."""
    latency: Latency | None
    """The last suggestion's latency; None before the first."""
    parse: Verdict | None
    """The input's verdict; None while unknown (being checked)."""
    busy: bool = False
    """A Ctrl-G generation is running."""
    execute: bool = True
    """False under --no-exec."""
    message: str = ""
    """A one-off notice (an error, a hint); cleared on the next keystroke."""
    source: str | None = None
    """Where the ghost text on screen came from: 'history', 'model', or None (none shown)."""
    history: bool = True
    """False while history is off (`--no-history`, `:set history off`)."""


_PARSE_TEXT = {
    "empty": ("", ""),
    "meta": ("class:toolbar.good", ":command"),
    "complete": ("class:toolbar.good", "✓ parses"),
    "incomplete": ("class:toolbar.busy", "… open (Enter continues)"),
    "error": ("class:toolbar.bad", "✗ "),
}


def render(info: ToolbarInfo) -> StyleAndTextTuples:
    """The toolbar's fragments."""
    parts: StyleAndTextTuples = [("", f" {info.model} · {info.device} · T={info.temperature:g}")]
    if info.source == "history":
        parts.append(
            ("class:toolbar.good", " · ↑ from history")
        )  # the latency below is an older model call's
    elif info.latency is not None:
        how = "typed through" if info.latency.cached else "model"
        parts.append(("", f" · {info.latency.ms:.0f} ms ({how})"))
    if not info.history:
        parts.append(("class:toolbar.busy", " · history off"))
    if not info.execute:
        parts.append(("class:toolbar.busy", " · no-exec"))
    if info.busy:
        parts.append(("class:toolbar.busy", " · generating… Ctrl-C cancels"))
    elif info.parse is not None and info.parse.state != "empty":
        style, text = _PARSE_TEXT[info.parse.state]
        if info.parse.state == "error":
            text += info.parse.message
        parts.append(("", " · "))
        parts.append((style, text))
    if info.message:
        parts.append(("class:toolbar.bad", f" · {info.message}"))
    return parts


class ParseWatcher:
    """The verdict on the latest input, computed off the UI thread."""

    def __init__(self, on_result: Callable[[], None] | None = None) -> None:
        self.on_result = on_result
        """Called (from the worker) when a new verdict is in; e.g. `app.invalidate`."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bashcoder-parse")
        self._lock = threading.Lock()
        self._latest = ""
        self._verdicts: dict[str, Verdict] = {"": Verdict("empty")}

    def verdict(self, text: str) -> Verdict | None:
        """The verdict for `text` if known; otherwise start checking it and return None."""
        with self._lock:
            if text in self._verdicts:
                return self._verdicts[text]
            if text == self._latest:
                return None
            self._latest = text
        self._pool.submit(self._check, text)
        return None

    def _check(self, text: str) -> None:
        with self._lock:
            if text != self._latest:
                return  # superseded while queued
        verdict = classify(text)
        with self._lock:
            if len(self._verdicts) > 256:
                self._verdicts.clear()
            self._verdicts[text] = verdict
        if self.on_result is not None:
            self.on_result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
