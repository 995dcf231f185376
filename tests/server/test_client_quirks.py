"""Clients other than the three tested editors: settings kept only for workspace/configuration, a client
that never answers the server's requests, and one that goes away while the model is working."""

from __future__ import annotations

import io
import subprocess
import time
from pathlib import Path
from typing import Any

from lsp_harness import ServerProcess
from lsp_testing import CAPABILITIES, TEST_SETTINGS, lsp_command
from test_cli import INITIALIZE, _frame, _read_frame

SCRIPT = "#!/bin/bash\nfor f in *.log; do\n  gzip \n"


def test_settings_kept_only_for_workspace_configuration_are_read_at_start(model_dir: Path) -> None:
    uri = "file:///tmp/bashcoder-tests/pull-only.sh"
    answers = []
    for enabled in (True, False):
        server = ServerProcess(lsp_command("--model", str(model_dir)))
        server.configuration = {**TEST_SETTINGS, "enabled": enabled}  # never sent unasked
        server.start(init_options=None, capabilities=CAPABILITIES)
        try:
            server.wait_ready()
            server.open(uri, SCRIPT)
            answers.append(list(server.inline(uri, 2, 7).items))
        finally:
            assert server.stop() == 0, server.stderr[-3000:]
    on, off = answers
    assert on and off == []  # the client's `enabled: false` reached the server without a didChange


def _request(msg_id: int, method: str, params: dict[str, Any]) -> bytes:
    return _frame({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})


def _notify(method: str, params: dict[str, Any]) -> bytes:
    return _frame({"jsonrpc": "2.0", "method": method, "params": params})


def _started(model_dir: Path, init: dict[str, Any]) -> subprocess.Popen[bytes]:
    """A server subprocess on pipes that was sent `init` and `initialized`."""
    proc = subprocess.Popen(
        lsp_command("--model", str(model_dir)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(_frame(init) + _notify("initialized", {}))
    proc.stdin.flush()
    return proc


def test_a_client_that_never_answers_the_progress_request_still_gets_a_model(model_dir: Path) -> None:
    init = {
        **INITIALIZE,
        "params": {**INITIALIZE["params"], "capabilities": {"window": {"workDoneProgress": True}}},
    }
    proc = _started(model_dir, init)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        started, seen = time.monotonic(), b""
        while b"bashcoder/status" not in seen:  # window/workDoneProgress/create is never answered
            chunk = proc.stdout.read1(65536)
            assert chunk and time.monotonic() - started < 60, seen[-2000:]
            seen += chunk
        assert b"window/workDoneProgress/create" in seen
    finally:
        proc.kill()
        proc.wait(10)


def test_a_client_gone_during_a_completion_leaves_a_clean_exit(model_dir: Path) -> None:
    settings = {"bashcoder": {"timeBudgetMs": 0, "maxTokens": 512, "mode": "block", "temperature": 0.8}}
    init = {**INITIALIZE, "params": {**INITIALIZE["params"], "initializationOptions": settings}}
    uri = "file:///tmp/bashcoder-tests/gone.sh"
    doc = {"textDocument": {"uri": uri, "languageId": "shellscript", "version": 1, "text": SCRIPT}}
    ask = {
        "textDocument": {"uri": uri},
        "position": {"line": 2, "character": 7},
        "context": {"triggerKind": 1},
    }
    proc = _started(model_dir, init)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    seen = b""
    while b"bashcoder/status" not in seen:  # the model is loaded
        chunk = proc.stdout.read1(65536)
        assert chunk, proc.stderr.read().decode()[-2000:]
        seen += chunk
    proc.stdin.write(_notify("textDocument/didOpen", doc) + _request(9, "textDocument/inlineCompletion", ask))
    proc.stdin.flush()
    time.sleep(0.05)
    proc.stdin.close()  # the editor went away without shutdown or exit, the model mid-generation
    code = proc.wait(60)
    stderr = proc.stderr.read().decode()
    # Not killed by a signal (SIGABRT, -6: the worker was inside ONNX Runtime as Python exited).
    assert "terminate called" not in stderr and code in (0, 1), (code, stderr[-2000:])


def test_exit_without_shutdown_is_status_1_and_after_it_0(model_dir: Path) -> None:
    for sequence, status in [
        (_notify("exit", {}), 1),
        (_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}) + _notify("exit", {}), 0),
    ]:
        proc = subprocess.run(
            lsp_command("--model", str(model_dir)),
            input=_frame(INITIALIZE) + sequence,
            capture_output=True,
            timeout=60,
        )
        assert proc.returncode == status, proc.stderr.decode()[-2000:]


def test_requests_out_of_lifecycle_order_get_an_error_not_silence(model_dir: Path) -> None:
    early = _request(
        5,
        "textDocument/completion",
        {"textDocument": {"uri": "file:///a.sh"}, "position": {"line": 0, "character": 0}},
    )
    late = _request(
        6,
        "textDocument/completion",
        {"textDocument": {"uri": "file:///a.sh"}, "position": {"line": 0, "character": 0}},
    )
    proc = subprocess.run(
        lsp_command("--model", str(model_dir)),
        input=early
        + _frame(INITIALIZE)
        + _frame({**INITIALIZE, "id": 3})
        + _frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        + late
        + _notify("exit", {}),
        capture_output=True,
        timeout=60,
    )
    stream, answers = io.BytesIO(proc.stdout), {}
    while (message := _read_frame(stream)) is not None:
        if "id" in message:
            answers[message["id"]] = message.get("error", {}).get("code")
    # before initialize: ServerNotInitialized; initialize twice: Invalid Request; after shutdown: Invalid Request
    assert answers == {5: -32002, 1: None, 3: -32600, 2: None, 6: -32600}, proc.stderr.decode()[-2000:]
    assert proc.returncode == 0


def _raw(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_messages_that_are_not_requests_get_invalid_request_and_early_notifications_are_dropped(
    model_dir: Path,
) -> None:
    # JSON-RPC 2.0: what is not a request object is answered -32600 (id null when its id cannot be
    # read); these were silently ignored, and a didOpen before initialize was stored and served.
    doc = {"textDocument": {"uri": "file:///early.sh", "languageId": "sh", "version": 1, "text": "ls\n"}}
    sequence = (
        _notify("textDocument/didOpen", doc)
        + _frame(INITIALIZE)
        + _raw(b"[]")
        + _raw(b"5")
        + _raw(b"null")
        + _raw(b'{"id": 21, "method": "bashcoder/stats"}')
        + _raw(b'{"jsonrpc": "1.0", "id": 22, "method": "bashcoder/stats"}')
        + _raw(b'{"jsonrpc": "2.0", "id": 1.5, "method": "bashcoder/stats"}')
        + _raw(b'"\xff\xfe"')
        + _frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        + _notify("exit", {})
    )
    proc = subprocess.run(
        lsp_command("--model", str(model_dir)), input=sequence, capture_output=True, timeout=60
    )
    stream, errors = io.BytesIO(proc.stdout), []
    while (message := _read_frame(stream)) is not None:
        if "error" in message:
            assert "id" in message, message  # `"id": null`, never a missing id
            errors.append((message["id"], message["error"]["code"]))
    assert errors == [
        (None, -32600),
        (None, -32600),
        (None, -32600),
        (21, -32600),
        (22, -32600),
        (None, -32600),
        (None, -32700),
    ], proc.stderr.decode()[-2000:]
    assert b"ignored textDocument/didOpen: it came before initialize" in proc.stderr
    assert proc.returncode == 0


def test_the_server_exits_when_the_clients_process_is_gone(model_dir: Path) -> None:
    # LSP: a server whose parent (initialize's processId) died must exit, even with its pipe still open.
    parent = subprocess.Popen(["sleep", "60"])
    init = {**INITIALIZE, "params": {**INITIALIZE["params"], "processId": parent.pid}}
    proc = _started(model_dir, init)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        assert _read_frame(proc.stdout)["id"] == 1  # type: ignore[index]
        time.sleep(1)
        assert proc.poll() is None  # the parent is alive: the server stays
        parent.kill()
        parent.wait()
        assert proc.wait(30) == 1  # stdin stays open: only the watch on the parent ends it
        assert b"the client's process" in proc.stderr.read() and proc.stdin is not None
    finally:
        parent.kill()
        proc.kill()
        proc.wait(10)


def test_a_client_process_this_server_cannot_see_is_not_taken_for_a_dead_one(model_dir: Path) -> None:
    # An editor in another PID namespace (a container, an ssh hop) sends a pid invisible here.
    gone = subprocess.Popen(["true"])
    gone.wait()
    init = {**INITIALIZE, "params": {**INITIALIZE["params"], "processId": gone.pid}}
    proc = _started(model_dir, init)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        assert _read_frame(proc.stdout)["id"] == 1  # type: ignore[index]
        time.sleep(7)  # two of the watch's 3 s polls
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(10)
