"""Drive a real `bashcoder-lsp` subprocess from synchronous code (tests, the latency benchmark).

pygls' `LanguageClient` runs on an asyncio loop in a background thread; the
methods here hand work to that loop and wait. Everything the server sends
without being asked (`bashcoder/status`, `window/showMessage`, `$/progress`)
is recorded, its stderr is collected, and the client answers the server's own
requests the way an editor would (progress tokens, applyEdit, configuration).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

T = TypeVar("T")

Edit = tuple[tuple[int, int], tuple[int, int], str]
"""((line, character), (line, character), new text): one incremental change."""


def _plain(value: Any) -> Any:
    """pygls hands unknown notifications' params over as namedtuples; turn them back into dicts."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class ServerProcess:
    """A bashcoder-lsp subprocess and a client talking to it over stdio."""

    def __init__(self, command: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.command = list(command)
        self.env = env
        self.statuses: list[dict[str, Any]] = []
        self.messages: list[lsp.ShowMessageParams] = []
        self.progress: list[Any] = []
        self.applied_edits: list[lsp.ApplyWorkspaceEditParams] = []
        self.configuration: Any = None
        """What the client answers to workspace/configuration."""
        self.stderr_lines: list[str] = []
        self._changed = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="lsp-client", daemon=True)
        self._thread.start()
        self.client = LanguageClient("bashcoder-tests", "0")
        self._register_handlers()

    # ---- running on the client loop -----------------------------------------
    def run(self, make: Callable[[], Awaitable[T]], timeout: float | None = 60) -> T:
        """Await `make()` on the client loop and return its result."""

        async def go() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout)

    def call(self, fn: Callable[[], T], timeout: float | None = 60) -> T:
        """Run a plain function (e.g. sending a notification) on the client loop."""

        async def go() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout)

    def _record(self, kind: str, value: Any) -> None:
        with self._changed:
            getattr(self, kind).append(value)
            self._changed.notify_all()

    def _register_handlers(self) -> None:
        client = self.client

        @client.feature("bashcoder/status")
        def status(params: Any) -> None:
            self._record("statuses", _plain(params))

        @client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def show_message(params: lsp.ShowMessageParams) -> None:
            self._record("messages", params)

        @client.feature(lsp.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create_progress(params: lsp.WorkDoneProgressCreateParams) -> None:
            return None

        @client.feature(lsp.PROGRESS)
        def progress(params: lsp.ProgressParams) -> None:
            self._record("progress", params)

        @client.feature(lsp.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
            self._record("applied_edits", params)
            return lsp.ApplyWorkspaceEditResult(applied=True)

        @client.feature(lsp.WORKSPACE_CONFIGURATION)
        def configuration(params: lsp.ConfigurationParams) -> list[Any]:
            return [self.configuration for _ in params.items]

    # ---- life cycle ----------------------------------------------------------
    def start(
        self,
        init_options: Any = None,
        capabilities: lsp.ClientCapabilities | None = None,
        timeout: float = 60,
    ) -> lsp.InitializeResult:
        """Spawn the server and initialize it (the model then loads in the background)."""

        async def go() -> lsp.InitializeResult:
            await self.client.start_io(*self.command, env=self.env)
            self._drain = asyncio.ensure_future(self._read_stderr())
            result = await self.client.initialize_async(
                lsp.InitializeParams(
                    capabilities=capabilities or lsp.ClientCapabilities(),
                    initialization_options=init_options,
                    process_id=None,
                )
            )
            self.client.initialized(lsp.InitializedParams())
            return result

        return self.run(go, timeout)

    async def _read_stderr(self) -> None:
        server = self.client._server
        assert server is not None and server.stderr is not None
        while line := await server.stderr.readline():
            self.stderr_lines.append(line.decode("utf-8", errors="replace").rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.stderr_lines)

    def wait_for(
        self, kind: str, predicate: Callable[[list[Any]], bool] = bool, timeout: float = 60
    ) -> list[Any]:
        """Block until the recorded list `kind` satisfies `predicate` (e.g. a first status arrives)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(getattr(self, kind)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {kind} after {timeout} s; server stderr:\n{self.stderr[-3000:]}")
                self._changed.wait(min(left, 0.5))
            return list(getattr(self, kind))

    def wait_ready(self, timeout: float = 120) -> dict[str, Any]:
        """The first `bashcoder/status`: the model is loaded."""
        return self.wait_for("statuses", timeout=timeout)[0]

    @property
    def alive(self) -> bool:
        server = self.client._server
        return server is not None and server.returncode is None

    def stop(self, timeout: float = 20) -> int | None:
        """shutdown + exit, then wait for the process (killed if it lingers)."""
        server = self.client._server

        async def go() -> None:
            if server is not None and server.returncode is None:
                try:
                    await asyncio.wait_for(self.client.shutdown_async(None), timeout / 2)
                    self.client.exit(None)
                    await asyncio.wait_for(server.wait(), timeout / 2)
                except (asyncio.TimeoutError, RuntimeError, ConnectionError, OSError):
                    server.kill()
            await self.client.stop()

        try:
            self.run(go, timeout + 5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        return server.returncode if server is not None else None

    # ---- the protocol, synchronously ------------------------------------------
    def open(self, uri: str, text: str, language_id: str = "shellscript", version: int = 1) -> None:
        item = lsp.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)
        self.call(
            lambda: self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=item))
        )

    def change(self, uri: str, version: int, edits: Sequence[Edit] | str) -> None:
        """Incremental edits, or the whole new text."""
        self.call(lambda: self.client.text_document_did_change(change_params(uri, version, edits)))

    def configure(self, settings: Any) -> None:
        params = lsp.DidChangeConfigurationParams(settings=settings)
        self.call(lambda: self.client.workspace_did_change_configuration(params))

    def inline(
        self, uri: str, line: int, character: int, timeout: float = 60
    ) -> lsp.InlineCompletionList | None:
        params = inline_params(uri, line, character)
        return self.run(lambda: self.client.text_document_inline_completion_async(params), timeout)

    def completion(self, uri: str, line: int, character: int, timeout: float = 60) -> Any:
        params = lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line, character)
        )
        return self.run(lambda: self.client.text_document_completion_async(params), timeout)

    def send_request(self, method: str, params: Any, msg_id: int | str) -> Future[Any]:
        """Send a request with a chosen id (to cancel it later); the future resolves with the response."""
        return self.call(lambda: self.client.protocol.send_request(method, params, msg_id=msg_id))

    def cancel(self, msg_id: int | str) -> None:
        self.call(lambda: self.client.cancel_request(lsp.CancelParams(id=msg_id)))

    def execute(self, command: str, arguments: list[Any], timeout: float = 120) -> Any:
        params = lsp.ExecuteCommandParams(command=command, arguments=arguments)
        return self.run(lambda: self.client.workspace_execute_command_async(params), timeout)

    def write_raw(self, data: bytes) -> None:
        """Bytes straight to the server's stdin, bypassing the client (malformed input)."""
        server = self.client._server
        assert server is not None and server.stdin is not None
        self.call(lambda: server.stdin.write(data))


def change_params(uri: str, version: int, edits: Sequence[Edit] | str) -> lsp.DidChangeTextDocumentParams:
    changes: list[lsp.TextDocumentContentChangeEvent]
    if isinstance(edits, str):
        changes = [lsp.TextDocumentContentChangeWholeDocument(text=edits)]
    else:
        changes = [
            lsp.TextDocumentContentChangePartial(
                range=lsp.Range(lsp.Position(*start), lsp.Position(*end)), text=text
            )
            for start, end, text in edits
        ]
    return lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=changes
    )


def inline_params(uri: str, line: int, character: int) -> lsp.InlineCompletionParams:
    return lsp.InlineCompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line, character),
        context=lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Automatic),
    )
