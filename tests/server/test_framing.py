"""The base protocol's frames read forgivingly (server/framing.py): pygls gets canonical frames, and a
frame that cannot be read is skipped so that the next message is still answered."""

from __future__ import annotations

import io
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lsp_testing import lsp_command
from test_cli import INITIALIZE, SHUTDOWN, _frame, _read_frame

from bashcoder.server.framing import MAX_MESSAGE_BYTES, FramedReader


def messages(raw: bytes) -> list[Any]:
    """What pygls would read from `raw` through FramedReader, parsed as it parses."""
    reader, out = FramedReader(io.BytesIO(raw)), []
    while header := reader.readline():
        assert header.startswith(b"Content-Length: ") and header.endswith(b"\r\n")
        assert reader.readline() == b"\r\n"
        out.append(json.loads(reader.read(int(header.split(b":")[1]))))
    return out


def frame(body: bytes, header: bytes = b"Content-Length: %d", eol: bytes = b"\r\n") -> bytes:
    return header % len(body) + eol + eol + body


PING = b'{"id": 7}'


@pytest.mark.parametrize(
    "first",
    [
        frame(b'{"id": 1}'),
        frame(b'{"id": 1}', header=b"content-length: %d"),  # header names are case-insensitive
        frame(b'{"id": 1}', eol=b"\n"),  # LF-only line ends
        frame(b'{"id": 1}', header=b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc"),
        b"\r\n" + frame(b'{"id": 1}'),  # a stray blank line
    ],
)
def test_frames_a_lenient_reader_accepts_reach_pygls_canonical(first: bytes) -> None:
    assert messages(first + frame(PING)) == [{"id": 1}, {"id": 7}]


@pytest.mark.parametrize(
    ("bad", "logged"),
    [
        (b"Content-Length: %d\r\n\r\n{}" % (MAX_MESSAGE_BYTES + 1), "was skipped"),
        (b"Content-Length: 99999999999\r\n\r\n{}", "was skipped"),
        (b"Content-Length: abc\r\n\r\n{}", "was skipped"),
        (b"Content-Length: -5\r\n\r\n{}", "was skipped"),
        (b"Content-Type: text/plain\r\n\r\n{}", "without Content-Length"),
    ],
)
def test_a_frame_that_cannot_be_read_is_logged_and_the_next_one_read(
    bad: bytes, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bashcoder.server.framing"):
        assert messages(bad + frame(PING)) == [{"id": 7}]
    assert logged in caplog.text


def test_a_length_a_few_bytes_short_loses_that_message_only() -> None:
    raw = b"Content-Length: 5\r\n\r\n" + b'{"id": 1}' + frame(PING)
    reader = FramedReader(io.BytesIO(raw))
    assert reader.readline() == b"Content-Length: 5\r\n" and reader.readline() == b"\r\n"
    assert reader.read(5) == b'{"id"'  # pygls fails to parse this one and logs it
    assert messages(b"".join(iter(lambda: reader.read(4096), b""))) == [{"id": 7}]


@pytest.mark.parametrize("extra", [1, 3, 14, 20])
def test_a_length_a_few_bytes_too_long_loses_no_message(extra: int, caplog: pytest.LogCaptureFixture) -> None:
    # The extra bytes are the next header's first ones: that message was lost, silently.
    body = b'{"id": 1, "text": "a } b"}'
    raw = b"Content-Length: %d\r\n\r\n" % (len(body) + extra) + body + frame(PING) + frame(b'{"id": 8}')
    with caplog.at_level(logging.WARNING, logger="bashcoder.server.framing"):
        assert messages(raw) == [{"id": 1, "text": "a } b"}, {"id": 7}, {"id": 8}]
    assert "too long" in caplog.text


def test_a_body_with_a_trailing_newline_counted_is_read_as_it_came() -> None:
    assert messages(frame(b'{"id": 1}\n') + frame(PING)) == [{"id": 1}, {"id": 7}]


def test_a_stream_that_ends_inside_a_message_ends_cleanly() -> None:
    assert messages(frame(PING) + b"Content-Length: 50\r\n\r\n{") == [{"id": 7}]


def test_the_server_answers_after_broken_frames_and_bad_messages(model_dir: Path) -> None:
    broken = b"Content-Length: 99999999999\r\n\r\n{}" + frame(b"{}", header=b"content-length: %d")
    bad = (
        frame(b'{"jsonrpc": "2.0", "id": 67, "method": 5}')
        + frame(b"hello")
        + frame(b'{"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {}}')
    )
    proc = subprocess.run(
        lsp_command("--model", str(model_dir)),
        input=broken
        + bad
        + _frame(INITIALIZE)
        + _frame(SHUTDOWN)
        + _frame({"jsonrpc": "2.0", "method": "exit"}),
        capture_output=True,
        timeout=120,
    )
    stream, seen = io.BytesIO(proc.stdout), []
    while (message := _read_frame(stream)) is not None:
        seen.append(message)
    assert {m.get("id") for m in seen} >= {1, 2}, proc.stderr.decode()[-2000:]
    assert b"was skipped" in proc.stderr
    errors = {m.get("id"): m["error"]["code"] for m in seen if "error" in m}
    assert errors == {67: -32600, None: -32700}  # Invalid Request; Parse error (id null)
    assert all("id" in m for m in seen), seen  # `"id": null`, not a missing id (JSON-RPC 2.0, section 5)
    # A notification whose params do not parse is one log line: nobody waits for its answer.
    assert b"ignored workspace/didChangeConfiguration: its params do not match" in proc.stderr
