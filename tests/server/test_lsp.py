"""bashcoder-lsp over stdio, as an editor sees it: providers, completions, staleness, type-through, the command."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from lsp_harness import ServerProcess, inline_params
from lsp_testing import TEST_SETTINGS, lsp_command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled

from bashcoder.server.items import shell_word_before

LONG = {"temperature": 1.0, "candidates": 4, "maxTokens": 512, "timeBudgetMs": 0, "mode": "block"}
"""Settings that keep the model decoding for a good while: to be cancelled or superseded."""


def cursors_in(text: str) -> list[tuple[int, int]]:
    """Cursors 6 characters before the end of lines in the second half of a script the micro model trained on."""
    lines = text.splitlines()
    second_half = range(len(lines) // 2, len(lines))
    return [(i, len(lines[i]) - 6) for i in second_half if len(lines[i].strip()) > 12][:8]


def answered(text: str, ask: Callable[[int, int], Any], long: bool = False) -> tuple[int, int, Any]:
    """The first of those cursors where `ask(line, character)` brings back a suggestion (of 2+ characters if `long`)."""
    for line, char in cursors_in(text):
        result = ask(line, char)
        if result is not None and result.items:
            first = result.items[0]
            shown = (
                first.insert_text if isinstance(first, lsp.InlineCompletionItem) else first.text_edit.new_text
            )
            if not long or len(shown) >= 2:
                return line, char, result
    pytest.fail("the micro model suggested nothing at any of 8 cursors in a script it trained on")


def test_both_completion_providers_and_the_command_are_advertised(lsp_server: ServerProcess) -> None:
    caps = lsp_server.initialize_result.capabilities  # type: ignore[attr-defined]
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None
    assert (
        caps.execute_command_provider is not None
        and "bashcoder.generate" in caps.execute_command_provider.commands
    )
    assert caps.text_document_sync is not None


def test_the_model_loads_in_the_background_with_progress_and_a_status(lsp_server: ServerProcess) -> None:
    kinds = [p.value["kind"] if isinstance(p.value, dict) else p.value.kind for p in lsp_server.progress]
    assert kinds[:1] == ["begin"] and "end" in kinds
    first = lsp_server.statuses[0]
    assert first["device"] == "cpu" and first["latencyMs"] is None and first["model"]


def test_inline_completion_returns_model_text_at_the_cursor(
    server: ServerProcess, uri: str, scripts: list[str]
) -> None:
    text = scripts[0]
    server.open(uri, text)
    line, char, result = answered(text, lambda line, char: server.inline(uri, line, char))
    item = result.items[0]
    assert isinstance(item.insert_text, str) and item.insert_text.strip()
    assert item.range == lsp.Range(lsp.Position(line, char), lsp.Position(line, char))
    status = server.wait_for("statuses", lambda s: s[-1]["latencyMs"] is not None)[-1]
    assert status["latencyMs"] >= 0


def test_completion_items_carry_the_model_text_in_a_text_edit(
    server: ServerProcess, uri: str, scripts: list[str]
) -> None:
    text = scripts[0]
    server.open(uri, text)
    line, char, result = answered(text, lambda line, char: server.completion(uri, line, char))
    assert isinstance(result, lsp.CompletionList) and result.is_incomplete
    item = result.items[0]
    line_text = text.splitlines()[line]
    word = shell_word_before(line_text[:char])
    edit = item.text_edit
    assert isinstance(edit, lsp.TextEdit)
    assert edit.range == lsp.Range(lsp.Position(line, char - len(word)), lsp.Position(line, char))
    assert edit.new_text.startswith(word) and len(edit.new_text) > len(word)
    assert item.label == next(ln.strip() for ln in edit.new_text.splitlines() if ln.strip())[:80]
    assert item.detail == "bashcoder"


def test_a_position_past_the_end_of_a_line_completes_at_its_end(server: ServerProcess, uri: str) -> None:
    server.open(uri, "#!/bin/bash\nfor f in *.log; do\n  gzip\ndone\n")
    result = server.inline(uri, 2, 500)
    assert result is not None
    for item in result.items:
        assert item.range is not None and item.range.start == lsp.Position(2, 6)


def test_typing_what_the_suggestion_began_with_is_answered_from_it(
    server: ServerProcess, uri: str, scripts: list[str]
) -> None:
    text = scripts[0]
    server.open(uri, text)
    line, char, first = answered(text, lambda line, char: server.inline(uri, line, char), long=True)
    shown = first.items[0].insert_text
    assert isinstance(shown, str) and len(shown) >= 2
    logged = len(server.stderr_lines)
    server.change(uri, 2, [((line, char), (line, char), shown[0])])
    started = time.perf_counter()
    rest = server.inline(uri, line, char + 1)
    elapsed = time.perf_counter() - started
    assert rest is not None and rest.items and rest.items[0].insert_text == shown[1:]
    assert any("without the model" in ln for ln in server.stderr_lines[logged:])
    assert elapsed < 2.0


def stats(server: ServerProcess) -> dict[str, int]:
    """The model worker's job counts (`bashcoder/stats`)."""
    result = server.send_request("bashcoder/stats", None, f"stats-{time.monotonic_ns()}").result(30)
    return dict(result._asdict()) if hasattr(result, "_asdict") else dict(result)


def wait_for_count(server: ServerProcess, name: str, above: int, done: Future[Any] | None = None) -> None:
    """Poll `bashcoder/stats` until counter `name` exceeds `above` (or `done` finishes first)."""
    deadline = time.monotonic() + 60
    while stats(server).get(name, 0) <= above:
        if (done is not None and done.done()) or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def running(server: ServerProcess, uri: str, attempt: int) -> Future[Any] | None:
    """A long inline request whose model job has started; None if it finished before we saw it start."""
    before = stats(server).get("started", 0)
    pending = server.send_request(
        lsp.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, 1 + attempt, 0), f"{uri}-{attempt}"
    )
    wait_for_count(server, "started", before, pending)
    return None if pending.done() else pending


def test_a_newer_request_for_the_document_supersedes_the_running_one(
    slow_server: ServerProcess, uri: str, scripts: list[str]
) -> None:
    server = slow_server
    server.configure({"bashcoder": LONG})
    server.open(uri, scripts[1])
    for attempt in range(5):  # a long request that finished before the newer one came is tried again
        stale = stats(server).get("stale_while_running", 0)
        old = running(server, uri, attempt)
        if old is None:
            continue
        new = server.send_request(
            lsp.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, 0, 0), f"new-{attempt}"
        )
        assert new.result(60) is not None
        if list(old.result(60).items) == []:
            wait_for_count(server, "stale_while_running", stale)
            assert stats(server)["stale_while_running"] > stale
            return
    pytest.fail("every long request finished before a newer one could supersede it")


def test_cancel_request_stops_decoding_and_the_server_answers_on(
    slow_server: ServerProcess, uri: str, scripts: list[str]
) -> None:
    server = slow_server
    server.configure({"bashcoder": LONG})
    server.open(uri, scripts[1])
    for attempt in range(5):  # a long request that finished before the cancel came is tried again
        stale = stats(server).get("stale_while_running", 0)
        pending = running(server, uri, attempt)
        if pending is None:
            continue
        server.cancel(f"{uri}-{attempt}")
        try:
            pending.result(60)
        except JsonRpcRequestCancelled:
            wait_for_count(server, "stale_while_running", stale)
            assert stats(server)["stale_while_running"] > stale
            server.configure({"bashcoder": {"mode": "line", "candidates": 1, "maxTokens": 16}})
            assert server.inline(uri, 1, 0, timeout=30) is not None
            return
    pytest.fail("every long request finished before it could be cancelled")


def test_the_time_budget_shows_the_start_of_the_line_in_time(
    server: ServerProcess, uri: str, scripts: list[str]
) -> None:
    text = scripts[0]
    server.open(uri, text)

    def ghost_text(line: int, char: int, budget_ms: int) -> str:
        # A new request each time, not a repeat; without the rerank, which with no budget would show
        # another line than the FIM one the budget cuts short (tests/engine/test_rerank.py).
        server.configure({"bashcoder": {"timeBudgetMs": budget_ms, "rerank": False}})
        result = server.inline(uri, line, char)
        return result.items[0].insert_text if result and result.items else ""

    cut_short = 0
    for line, char in cursors_in(text):
        full = ghost_text(line, char, 0)
        # 1 ms is over before the prompt is read: the answer is the first few tokens only.
        quick = ghost_text(line, char, 1)
        assert full.startswith(quick), (full, quick)
        cut_short += bool(quick) and len(quick) < len(full)
    assert cut_short, "no cursor where the budget cut a suggestion short"


def test_equal_requests_for_one_keystroke_share_one_model_run(
    server: ServerProcess, uri: str, scripts: list[str]
) -> None:
    text = scripts[0]
    server.open(uri, text)
    line, char, _ = answered(text, lambda line, char: server.inline(uri, line, char))
    server.configure({"bashcoder": {"maxTokens": 15}})  # a new request, not a repeat of the answer above
    params = lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line, char)
    )
    menu = server.send_request(lsp.TEXT_DOCUMENT_COMPLETION, params, "menu-1")
    ghost = server.send_request(
        lsp.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, line, char), "ghost-1"
    )
    menu_items, ghost_items = menu.result(60).items, ghost.result(60).items
    assert ghost_items and menu_items  # neither superseded the other
    assert menu_items[0].text_edit.new_text.endswith(ghost_items[0].insert_text)


def test_generate_writes_a_script_below_the_comment(server: ServerProcess, uri: str) -> None:
    server.configure({"bashcoder": {"maxTokens": 64}})
    server.open(uri, "#!/bin/bash\n# print the disk usage of each directory\n")
    before = len(server.applied_edits)
    result = server.execute("bashcoder.generate", [uri, 1])
    if result["applied"]:
        params = server.applied_edits[before]
        (edit,) = params.edit.changes[uri]
        assert edit.range.start == lsp.Position(2, 0) and edit.range.end == lsp.Position(2, 0)
        assert edit.new_text == result["text"] and edit.new_text.endswith("\n")
    else:  # the model may write nothing; then the user is told and nothing is edited
        assert len(server.applied_edits) == before


def test_a_client_declaring_nothing_gets_no_edit_and_one_status(model_dir: Path, scripts: list[str]) -> None:
    # LSP: workspace/applyEdit only goes to a client that declares workspace.applyEdit. And a
    # status per completion only to one that asks (experimental.bashcoderStatus): generic clients
    # (Helix, Kate, Zed) logged an unknown notification at every keystroke.
    uri = "file:///tmp/bashcoder-tests/no-apply-edit.sh"
    server = ServerProcess(lsp_command("--model", str(model_dir)))
    try:
        server.start(
            init_options={"bashcoder": {**TEST_SETTINGS, "maxTokens": 64, "temperature": 0}},
            capabilities=lsp.ClientCapabilities(),
        )
        server.wait_ready()
        server.open(uri, "#!/bin/bash\n# print the disk usage of each directory\n")
        result = server.execute("bashcoder.generate", [uri, 1])
        assert result["applied"] is False and server.applied_edits == []
        assert result["position"] == {"line": 2, "character": 0}
        other = "file:///tmp/bashcoder-tests/no-status.sh"
        server.open(other, scripts[0])
        answered(scripts[0], lambda line, char: server.inline(other, line, char))
        assert len(server.statuses) == 1 and server.statuses[0]["latencyMs"] is None  # the load's
    finally:
        assert server.stop() == 0, server.stderr[-3000:]


@pytest.mark.parametrize(
    ("arguments", "says"),
    [([], "takes [uri, line]"), (["file:///nowhere.sh", 0], "not open"), (["URI", 0], "not a `# comment`")],
)
def test_generate_refuses_bad_arguments_with_the_fix(
    server: ServerProcess, uri: str, arguments: list[object], says: str
) -> None:
    server.open(uri, "echo hi\n")
    arguments = [uri if a == "URI" else a for a in arguments]
    with pytest.raises(JsonRpcException, match=says.replace("[", r"\[")):
        server.execute("bashcoder.generate", arguments)


def test_a_cursor_inside_a_word_gets_the_rest_of_the_word(server: ServerProcess, scripts: list[str]) -> None:
    # Token healing: typing `ech|` must not leave the model stuck on the split token
    # `ech` (on the micro model, unhealed greedy completions continued 0 of 103 such words).
    cuts = [
        (n, i)
        for n, text in enumerate(scripts)
        for i in range(30, len(text), 37)
        if text[i - 1].isalpha() and text[i].isalpha()
    ][:20]
    hits = 0
    for n, i in cuts:
        text = scripts[n]
        doc = f"file:///tmp/heal/{n}-{i}.sh"
        server.open(doc, text[:i])
        line = text[:i].count("\n")
        result = server.inline(doc, line, i - (text.rfind("\n", 0, i) + 1))
        if result is not None and result.items and text[i:].startswith(result.items[0].insert_text[:2]):
            hits += 1
    assert hits >= 1, f"no mid-word cursor of {len(cuts)} got the rest of its word"
