"""`bashcoder-lsp` starts over stdio or TCP, keeps stdout for the protocol, and reports bad options in one line."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any

import pytest
from lsp_testing import lsp_command

from bashcoder.engine.errors import BashcoderError
from bashcoder.server.launch import parse_host_port


def test_host_port_parsing() -> None:
    assert parse_host_port("127.0.0.1:2087") == ("127.0.0.1", 2087)
    assert parse_host_port("[::1]:9000") == ("::1", 9000)
    for bad in ("2087", "host:", ":80", "host:http"):
        with pytest.raises(BashcoderError, match="HOST:PORT"):
            parse_host_port(bad)
    for bad in ("host:99999", "host:0"):
        with pytest.raises(BashcoderError, match="out of range; use a port from 1 to 65535"):
            parse_host_port(bad)


def test_a_bad_tcp_address_is_one_line_on_stderr() -> None:
    proc = subprocess.run(lsp_command("--tcp", "nonsense"), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: --tcp 'nonsense' is not HOST:PORT; use e.g. --tcp 127.0.0.1:2087."
    ]


def test_a_port_in_use_or_an_unwritable_log_file_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run(
            lsp_command("--tcp", f"127.0.0.1:{port}"), capture_output=True, text=True, timeout=60
        )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"error: --tcp 127.0.0.1:{port}: cannot listen there (Address already in use); "
        "choose a free port or another address."
    ]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = subprocess.run(
        lsp_command("--log-file", str(blocker / "lsp.log")),
        capture_output=True,
        text=True,
        timeout=60,
        input="",
    )
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: --log-file {blocker / 'lsp.log'}: cannot write it")


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    """One LSP message; anything else on the stream (a stray print) fails the test."""
    header = stream.readline()
    if not header:
        return None
    assert header.startswith(b"Content-Length: "), f"not an LSP header on stdout: {header!r}"
    length = int(header.split(b":")[1])
    while (line := stream.readline()) not in (b"\r\n", b""):
        assert line.startswith(b"Content-Type: "), f"not an LSP header on stdout: {line!r}"
    return json.loads(stream.read(length))


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"processId": None, "rootUri": None, "capabilities": {}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "initialized", "params": {}}
SHUTDOWN = {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}
EXIT = {"jsonrpc": "2.0", "method": "exit"}


def test_stdout_carries_only_protocol_messages_and_the_log_goes_to_the_log_file(
    model_dir: Path, tmp_path: Path
) -> None:
    log_file = tmp_path / "lsp.log"
    proc = subprocess.Popen(
        lsp_command("--model", str(model_dir), "--log-file", str(log_file)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(_frame(INITIALIZE) + _frame(INITIALIZED))
        proc.stdin.flush()
        seen: list[dict[str, Any]] = []
        while not any(m.get("method") == "bashcoder/status" for m in seen):
            message = _read_frame(proc.stdout)
            assert message is not None, proc.stderr.read().decode() if proc.stderr else ""
            seen.append(message)
        assert seen[0]["id"] == 1 and "inlineCompletionProvider" in seen[0]["result"]["capabilities"]
        proc.stdin.write(_frame(SHUTDOWN) + _frame(EXIT))
        proc.stdin.flush()
        while (message := _read_frame(proc.stdout)) is not None:
            seen.append(message)
        assert proc.wait(30) == 0
    finally:
        proc.kill()
    assert any(m.get("id") == 2 for m in seen)
    assert "ready on cpu" in log_file.read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tcp_serves_the_same_protocol(model_dir: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        lsp_command("--model", str(model_dir), "--tcp", f"127.0.0.1:{port}"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the server never listened"
                time.sleep(0.2)
        with conn, conn.makefile("rwb") as stream:
            stream.write(_frame(INITIALIZE))
            stream.flush()
            reply = _read_frame(stream)
            assert reply is not None and "completionProvider" in reply["result"]["capabilities"]
            stream.write(_frame(SHUTDOWN) + _frame(EXIT))
            stream.flush()
        assert proc.wait(30) == 0
        assert proc.stdout is not None and proc.stdout.read() == b""
    finally:
        proc.kill()


def test_tcp_mode_serves_with_stdout_closed_and_stdio_mode_says_it_needs_it() -> None:
    # --tcp answers over its socket; a closed stdout used to refuse it as well.
    import os
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        lsp_command("--tcp", f"127.0.0.1:{port}"), stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1)
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the TCP server never listened"
                time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait(10)
    closed = subprocess.run(
        lsp_command(),
        input=b"",
        capture_output=False,
        stderr=subprocess.PIPE,
        timeout=60,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == 1 and b"stdout is closed" in closed.stderr
