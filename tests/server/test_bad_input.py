"""Bad input gets an error or an empty result, never a dead server: after each case it answers again."""

from __future__ import annotations

import json
import time
from concurrent.futures import Future
from pathlib import Path

import pytest
from lsp_harness import ServerProcess
from lsp_testing import CAPABILITIES, TEST_SETTINGS, lsp_command
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound

SCRIPT = '#!/bin/bash\nfor f in *.log; do\n  gzip "$f"\ndone\n'


def still_answers(server: ServerProcess) -> None:
    """A fresh shell document gets a completion response (possibly empty) within a few seconds."""
    uri = f"file:///tmp/bashcoder-tests/alive-{time.monotonic_ns()}.sh"
    server.open(uri, SCRIPT)
    assert server.alive, server.stderr[-3000:]
    assert isinstance(server.inline(uri, 2, 2, timeout=30), lsp.InlineCompletionList)
    assert isinstance(server.completion(uri, 2, 2, timeout=30), lsp.CompletionList)


def test_an_unknown_document_gets_empty_results(server: ServerProcess) -> None:
    assert list(server.inline("file:///never/opened.sh", 0, 0).items) == []
    assert list(server.completion("file:///never/opened.sh", 0, 0).items) == []
    still_answers(server)


def test_a_line_past_the_end_gets_empty_results(server: ServerProcess, uri: str) -> None:
    server.open(uri, SCRIPT)
    assert list(server.inline(uri, 999, 0).items) == []
    assert list(server.completion(uri, 10**6, 10**6).items) == []
    still_answers(server)


@pytest.mark.parametrize(("name", "language_id"), [("notes.py", "python"), ("README.md", "markdown")])
def test_a_file_that_is_not_shell_gets_nothing(server: ServerProcess, name: str, language_id: str) -> None:
    uri = f"file:///tmp/bashcoder-tests/{name}"
    server.open(uri, "import os\nprint(os.getcwd())\nfor f in range(3):\n    \n", language_id)
    assert list(server.inline(uri, 3, 4).items) == []
    assert list(server.completion(uri, 3, 4).items) == []
    still_answers(server)


def test_a_shebang_makes_any_file_a_shell_script(server: ServerProcess) -> None:
    uri = "file:///tmp/bashcoder-tests/deploy"
    server.open(uri, SCRIPT, "plaintext")
    assert isinstance(server.inline(uri, 2, 2), lsp.InlineCompletionList)


def test_invalid_settings_show_a_message_and_keep_working_values(server: ServerProcess, uri: str) -> None:
    shown = len(server.messages)
    server.configure(
        {"bashcoder": {"temperature": "hot", "candidates": 99, "mode": "paragraph", "colour": 1}}
    )
    messages = server.wait_for("messages", lambda m: len(m) > shown)[shown:]
    text = messages[0].message
    assert messages[0].type == lsp.MessageType.Warning
    for key in ("temperature", "candidates", "mode", "colour"):
        assert key in text
    still_answers(server)


def test_disabled_means_silent(server: ServerProcess, uri: str) -> None:
    server.open(uri, SCRIPT)
    server.configure({"bashcoder": {"enabled": False}})
    assert list(server.inline(uri, 2, 2).items) == []
    server.configure({"bashcoder": TEST_SETTINGS})


def test_other_tools_settings_are_not_ours_to_judge(server: ServerProcess) -> None:
    shown = len(server.messages)
    server.configuration = TEST_SETTINGS  # what the client answers to workspace/configuration
    server.configure({"python": {"analysis": True}})
    still_answers(server)
    assert len(server.messages) == shown


def test_a_5_mb_document_is_answered_as_fast_as_a_small_one(server: ServerProcess, uri: str) -> None:
    block = 'for f in /var/log/*.log; do\n  gzip -9 "$f"\n  echo "packed $f"\ndone\n'
    text = "#!/bin/bash\n" + block * (5_000_000 // len(block))
    assert len(text) > 4_900_000
    server.open(uri, text)
    lines = text.count("\n")
    for line in (lines - 2, lines // 2):
        started = time.perf_counter()
        result = server.inline(uri, line, 2, timeout=60)
        assert isinstance(result, lsp.InlineCompletionList)
        assert time.perf_counter() - started < 15
    server.change(uri, 2, [((lines, 0), (lines, 0), "echo end\n")])
    assert isinstance(server.completion(uri, lines + 1, 0, timeout=60), lsp.CompletionList)
    still_answers(server)


def _framed(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_malformed_json_rpc_is_survived(server: ServerProcess, uri: str) -> None:
    server.open(uri, SCRIPT)
    server.write_raw(b"this is not a header\r\n\r\n")  # no Content-Length: skipped
    server.write_raw(_framed(b'{"jsonrpc": "2.0", "id": 77, "method": "textDocument/inlineCompl'))  # cut JSON
    server.write_raw(_framed(b"[1, 2, 3]"))  # JSON, but not a message
    server.write_raw(_framed(b'{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"bad": 1}}'))
    server.write_raw(_framed(json.dumps({"jsonrpc": "2.0", "id": 78, "method": "no/such/method"}).encode()))
    # A request whose params do not fit the LSP types gets an InvalidParams error for its id.
    answer: Future[object] = Future()
    server.call(lambda: server.client.protocol._request_futures.__setitem__("raw-1", answer))
    bad = {
        "jsonrpc": "2.0",
        "id": "raw-1",
        "method": "textDocument/inlineCompletion",
        "params": {"textDocument": {"uri": uri}, "position": {"line": "two", "character": None}},
    }
    server.write_raw(_framed(json.dumps(bad).encode()))
    with pytest.raises(JsonRpcInvalidParams):
        answer.result(30)
    still_answers(server)


def test_a_request_the_server_does_not_implement_is_answered_and_logged_once(server: ServerProcess) -> None:
    # Clients ask for hover, definitions, formatting: -32601 for each, one log line, not an ERROR too.
    answer: Future[object] = Future()
    server.call(lambda: server.client.protocol._request_futures.__setitem__("raw-hover", answer))
    logged = len(server.stderr_lines)
    hover = {"textDocument": {"uri": "file:///x.sh"}, "position": {"line": 0, "character": 0}}
    server.write_raw(
        _framed(
            json.dumps(
                {"jsonrpc": "2.0", "id": "raw-hover", "method": "textDocument/hover", "params": hover}
            ).encode()
        )
    )
    with pytest.raises(JsonRpcMethodNotFound):
        answer.result(30)
    still_answers(server)
    lines = [ln for ln in server.stderr_lines[logged:] if "textDocument/hover" in ln]
    assert len(lines) == 1 and "ERROR" not in lines[0], lines


def test_a_bad_model_and_bad_initialization_options_leave_a_server_that_answers(
    model_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-model-here"
    server = ServerProcess(lsp_command("--model", str(missing)))
    try:
        server.start(init_options={"bashcoder": {"topK": -1, "mode": "line"}}, capabilities=CAPABILITIES)
        messages = server.wait_for("messages", lambda m: any("could not load" in x.message for x in m))
        assert any("topK" in m.message for m in messages)
        assert any(m.type == lsp.MessageType.Error and str(missing) in m.message for m in messages)
        uri = "file:///tmp/bashcoder-tests/no-model.sh"
        server.open(uri, SCRIPT)
        assert list(server.inline(uri, 2, 2).items) == []  # no model: nothing, but an answer
        # A good model in the settings loads and serves.
        server.configure({"bashcoder": {"model": str(model_dir), "temperature": 0, "candidates": 1}})
        status = server.wait_ready()
        assert status["model"] == str(model_dir)
        assert isinstance(server.inline(uri, 2, 2), lsp.InlineCompletionList)
    finally:
        assert server.stop() == 0, server.stderr[-3000:]


def test_a_bad_model_path_in_the_settings_keeps_the_loaded_model(
    server: ServerProcess, tmp_path: Path
) -> None:
    shown, statuses = len(server.messages), len(server.statuses)
    try:
        server.configure({"bashcoder": {"model": str(tmp_path / "missing")}})
        server.wait_for("messages", lambda m: any("could not load" in x.message for x in m[shown:]))
        still_answers(server)
        assert all(s["model"] != str(tmp_path / "missing") for s in server.statuses[statuses:])
        # Other settings changed later: the same bad model is not tried again, pop-up and all.
        for temperature in (0.3, 0.4):
            server.configure({"bashcoder": {"model": str(tmp_path / "missing"), "temperature": temperature}})
            still_answers(server)  # the worker runs jobs in order: a retried load would be done by now
        assert sum("could not load" in m.message for m in server.messages[shown:]) == 1
    finally:
        server.configure({"bashcoder": {"model": None}})


def test_asking_twice_where_nothing_was_suggested_answers_nothing_twice(
    server: ServerProcess, uri: str
) -> None:
    server.open(uri, "#!/bin/bash\n\n\n")
    first = server.inline(uri, 2, 0)
    second = server.inline(uri, 2, 0)  # the same request: answered from the last answer, even an empty one
    assert list(first.items) == list(second.items)
    still_answers(server)
