"""The toolbar shows model, device, temperature, latency and whether the input parses."""

from __future__ import annotations

import time

from bashcoder.repl.assistant import Latency
from bashcoder.repl.check import Verdict
from bashcoder.repl.toolbar import ParseWatcher, ToolbarInfo, render


def text_of(info: ToolbarInfo) -> str:
    return "".join(t for _, t in render(info))


def test_toolbar_shows_model_device_temperature_latency_and_parse_state() -> None:
    info = ToolbarInfo("tiny", "cpu", 0.2, Latency(41.6, False), Verdict("complete"))
    assert text_of(info) == " tiny · cpu · T=0.2 · 42 ms (model) · ✓ parses"
    bad = ToolbarInfo("tiny", "cuda", 0.7, Latency(0.2, True), Verdict("error", "line 1: syntax error"))
    assert text_of(bad) == " tiny · cuda · T=0.7 · 0 ms (typed through) · ✗ line 1: syntax error"


def test_toolbar_shows_generation_no_exec_and_messages() -> None:
    info = ToolbarInfo("m", "cpu", 0, None, None, busy=True, execute=False, message="no model")
    assert text_of(info) == " m · cpu · T=0 · no-exec · generating… Ctrl-C cancels · no model"


def test_toolbar_says_where_the_ghost_text_came_from() -> None:
    base = ToolbarInfo("tiny", "cpu", 0.2, Latency(41.6, False), Verdict("complete"))
    from_history = ToolbarInfo(
        "tiny", "cpu", 0.2, Latency(41.6, False), Verdict("complete"), source="history"
    )
    assert text_of(from_history) == " tiny · cpu · T=0.2 · ↑ from history · ✓ parses"
    assert text_of(base) == text_of(ToolbarInfo(**{**base.__dict__, "source": "model"}))
    off = ToolbarInfo("tiny", "cpu", 0.2, None, None, history=False)
    assert text_of(off) == " tiny · cpu · T=0.2 · history off"


def test_parse_watcher_checks_off_the_ui_thread() -> None:
    calls: list[int] = []
    watcher = ParseWatcher(lambda: calls.append(1))
    try:
        assert watcher.verdict("") == Verdict("empty")
        assert watcher.verdict("if true; then") is None  # being checked
        deadline = time.monotonic() + 10
        while watcher.verdict("if true; then") is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watcher.verdict("if true; then").state == "incomplete"  # type: ignore[union-attr]
        assert calls
    finally:
        watcher.close()
