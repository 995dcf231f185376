"""The bashcoder language server: one pygls server, thin handlers.

Each handler fetches the document, asks `service` (through the one model
`worker`) or the pure modules, and builds lsprotocol types. The server never
dies on a bad request: unknown documents, non-shell files, positions past the
end, a model still loading or disabled completions all get an empty result;
params that do not parse get an InvalidParams error; bad settings get a
message and the defaults.

Custom protocol: the notification `bashcoder/status` {device, latencyMs,
model} after the model loads, and after each completion to clients that
declare `capabilities.experimental.bashcoderStatus` (ours do; a generic
client would log an unknown notification per keystroke), the request
`bashcoder/stats` (the model worker's job counts, for diagnostics), and the command
`bashcoder.generate` [uri, line] that writes a script body below a
`# comment` line through `workspace/applyEdit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from lsprotocol import types as lsp
from pygls.exceptions import (
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcMethodNotFound,
    JsonRpcParseError,
)
from pygls.lsp.server import LanguageServer

from bashcoder import __version__
from bashcoder.engine.completer import Suggestion
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Stale
from bashcoder.server.documents import Change, Cursor, Documents
from bashcoder.server.items import completion_items, cursor_position, inline_items
from bashcoder.server.lifecycle import ModelLifecycle
from bashcoder.server.positions import ENCODINGS, UTF16, Pos, position_at
from bashcoder.server.protocol import BashcoderProtocol
from bashcoder.server.script import insertion, script_spot
from bashcoder.server.service import CompletionService, ModelInfo
from bashcoder.server.settings import CLIENT_KEYS, SECTION, SETTING_KEYS, ServerSettings, parse_settings
from bashcoder.server.worker import Worker

log = logging.getLogger(__name__)

PARENT_POLL_S = 3.0
"""How often the server checks that the client's process (initialize's processId) is alive."""
EXIT_WAIT_S = 2.0
"""How long the process waits at exit for the model worker: a decode stops at its next step (ms);
a model load does not stop, and is left behind after this."""

NAME = "bashcoder-lsp"
STATUS = "bashcoder/status"
GENERATE = "bashcoder.generate"
STATS = "bashcoder/stats"
STATUS_CAPABILITY = "bashcoderStatus"
"""Key of `capabilities.experimental` by which a client asks for a status after every completion."""
TRIGGER_CHARACTERS = [" ", "$", "-", "/", "|", "=", "(", "{", '"']


@dataclass(frozen=True)
class ServerOptions:
    """How `bashcoder-lsp` was started (the command line); clients' settings come on top."""

    model: str | None = None
    """Model directory when the client's settings name none (then $BASHCODER_MODEL, the shipped model)."""
    device: str | None = None
    """cuda, mps or cpu when the client's settings name none (then $BASHCODER_DEVICE, the best one)."""
    reuse_prefix_cache: bool = True
    """Reuse the KV cache of the previous prompt; off only to measure what it saves."""


class BashcoderServer(ModelLifecycle, LanguageServer):
    """The server's state: documents, settings, the model service and its worker."""

    def __init__(self, options: ServerOptions) -> None:
        super().__init__(
            NAME,
            __version__,
            text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental,
            protocol_cls=BashcoderProtocol,
        )
        self.options = options
        self.documents = Documents()
        self.settings = ServerSettings()
        self.service = CompletionService(reuse_prefix_cache=options.reuse_prefix_cache)
        self.worker = Worker()
        self.last_latency_ms: float | None = None
        self.pending_problems: list[str] = []
        self.pull_at_start = False
        """Ask the client for its settings before the model loads (it sent no initializationOptions)."""
        self.model_spec: tuple[str | None, str | None] | None = None
        """(model, device) being loaded or loaded."""
        self.loaded_spec: tuple[str | None, str | None] | None = None
        """(model, device) of the model serving now."""
        self._tasks: set[asyncio.Task[Any]] = set()

    # ---- plumbing ----------------------------------------------------------
    @property
    def encoding(self) -> str:
        try:
            value = self.workspace.position_encoding
        except RuntimeError:  # before initialize
            return UTF16
        value = getattr(value, "value", value)
        return value if value in ENCODINGS else UTF16

    @property
    def reads_markdown(self) -> bool:
        """Whether the client shows markdown in completion documentation (LSP: a client that lists
        no documentationFormat gets plain text)."""
        try:
            item = self.client_capabilities.text_document.completion.completion_item
            formats = item.documentation_format or []
        except AttributeError:  # no textDocument, completion or completionItem capability
            return False
        return lsp.MarkupKind.Markdown in formats

    @property
    def wants_every_status(self) -> bool:
        """Whether the client asked for a status after each completion (its latency), by
        `capabilities.experimental.bashcoderStatus: true`; every client gets the model's loads."""
        try:
            experimental = self.client_capabilities.experimental
        except AttributeError:
            return False
        return isinstance(experimental, dict) and experimental.get(STATUS_CAPABILITY) is True

    def spawn(self, coro: Any) -> None:
        """Run a coroutine in the background, keeping a reference until it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Protocol errors (malformed JSON, a failing notification) are logged, not shown in pop-ups.

        A body that is not JSON is answered with a Parse error (-32700, id null), as JSON-RPC 2.0
        asks: the client learns its message was lost instead of waiting for an answer.
        """
        if isinstance(error, JsonRpcMethodNotFound):
            # A request this server does not implement (hover, say): answered -32601, and pygls has
            # already logged it; a client asking is no server error.
            return
        log.error("%s: %s", getattr(source, "__name__", source), error)
        if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
            parse_error = JsonRpcParseError(f"the message body is not JSON: {error}")
            # As a plain dict: pygls' serializer drops None fields, and JSON-RPC requires `"id": null`
            # (strict clients, Helix's or lsp4j's, reject an error answer without an id).
            self.protocol._send_data(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": parse_error.code, "message": parse_error.message},
                }
            )

    def show(self, message: str, kind: lsp.MessageType = lsp.MessageType.Warning) -> None:
        log.log(logging.ERROR if kind == lsp.MessageType.Error else logging.WARNING, "%s", message)
        self.window_show_message(lsp.ShowMessageParams(type=kind, message=f"bashcoder: {message}"))

    def notify_status(self) -> None:
        info: ModelInfo | None = self.service.info
        self.protocol.notify(
            STATUS,
            {
                "device": info.device if info else "none",
                "latencyMs": self.last_latency_ms,
                "model": info.model if info else "",
            },
        )

    # ---- completions -------------------------------------------------------
    def cursor_for(self, uri: str, position: lsp.Position) -> Cursor | None:
        """The cursor to complete at, or None where the server stays silent."""
        if not self.settings.enabled or not self.service.ready:
            return None
        doc = self.documents.get(uri)
        if doc is None or not doc.is_shell:
            return None
        return self.documents.cursor(uri, Pos(position.line, position.character), self.encoding)

    async def suggest(self, cursor: Cursor) -> list[Suggestion]:
        """Ranked suggestions at a cursor: type-through or a repeat at once, else the model."""
        started = time.perf_counter()
        req = self.service.request(cursor.prefix, cursor.suffix, self.settings, started)
        if req is None:
            return []
        hit = self.service.cached(req)
        if hit is not None:
            how = "type-through" if hit and hit[0].from_cache else "a repeat of the last answer"
            log.debug("answered %s without the model: %s", cursor.uri, how)
            self.worker.supersede(cursor.uri)
            suggestions = hit
        else:
            job = self.worker.submit(cursor.uri, _completion_work(self.service, req), share=req)
            try:
                suggestions = await job.wait()
            except Stale:
                return []
            except BashcoderError as exc:
                log.warning("no completion: %s", exc)
                return []
        self.last_latency_ms = round((time.perf_counter() - started) * 1000, 1)
        if self.wants_every_status:
            self.notify_status()
        return suggestions

    def shutdown_worker(self) -> None:
        """Tell the model worker to stop, without waiting: the event loop must keep answering (a
        model load can take seconds and cannot be interrupted). `exit_process` waits for it."""
        self.worker.stop(timeout=0)

    def shutdown(self) -> None:
        """Stop the model worker, then pygls (at an `exit`, or at the end of stdin)."""
        self.shutdown_worker()
        super().shutdown()

    async def watch_parent(self, pid: int, every: float = PARENT_POLL_S) -> None:
        """Stop the server once the client's process (initialize's processId) is gone, as LSP asks:
        an editor that died, or a wrapper that keeps the pipe open, must not leave the server (and
        its model) running. Polled like vscode-languageserver's watchdog (every 3 s, signal 0)."""
        while True:
            await asyncio.sleep(every)
            if not process_alive(pid):
                log.warning("the client's process %d is gone; exiting", pid)
                # Not through pygls' shutdown: it waits for its reader thread, which a pipe that
                # stays open keeps blocked for ever. Nothing is left to answer or to save.
                self.worker.stop(timeout=EXIT_WAIT_S)
                _leave_now(1)

    def exit_process(self, status: int, wait: float = EXIT_WAIT_S) -> NoReturn:
        """End the process once pygls has stopped: wait up to `wait` seconds for the model worker,
        then exit with `status`. A worker still inside a model load (torch or ONNX Runtime) is left
        behind with os._exit: letting the interpreter finalise around it aborted the process
        ("terminate called without an active exception", status -6 instead of 0 or 1)."""
        if self.worker.stop(timeout=wait):
            sys.exit(status)
        log.info("the model was still loading after %.0f s; exiting without waiting for it", wait)
        _leave_now(status)


def _leave_now(status: int) -> NoReturn:
    """Flush the log and the streams, then end the process at once (os._exit: no interpreter
    finalisation around a worker thread that cannot be stopped, no waiting for a blocked reader)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


def process_alive(pid: int) -> bool:
    """Whether process `pid` exists (another user's counts: signal 0 is refused, not missing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, someone else's
        return True
    return True


def _completion_work(
    service: CompletionService, req: Any
) -> Callable[[Callable[[], bool]], list[Suggestion]]:
    return lambda is_stale: service.complete(req, is_stale)


def _changes(params: lsp.DidChangeTextDocumentParams) -> list[Change]:
    out: list[Change] = []
    for change in params.content_changes:
        if isinstance(change, lsp.TextDocumentContentChangePartial):
            r = change.range
            out.append((Pos(r.start.line, r.start.character), Pos(r.end.line, r.end.character), change.text))
        else:
            out.append(change.text)
    return out


def _generate_args(args: tuple[Any, ...]) -> tuple[str, int]:
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    if (
        len(args) != 2
        or not isinstance(args[0], str)
        or not isinstance(args[1], int)
        or isinstance(args[1], bool)
    ):
        raise JsonRpcInvalidParams(f"{GENERATE} takes [uri, line] (line 0-based), got {list(args)!r:.200}")
    return args[0], args[1]


def _is_our_section(raw: object) -> bool:
    """Whether a didChangeConfiguration payload carries bashcoder settings (wrapped or bare)."""
    if not isinstance(raw, dict) or not raw:
        return False
    return SECTION in raw or any(key in SETTING_KEYS or key in CLIENT_KEYS for key in raw)


def build_server(options: ServerOptions | None = None) -> BashcoderServer:
    """A server with every handler registered; start it with `start_io()` or `start_tcp()`."""
    server = BashcoderServer(options or ServerOptions())

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: BashcoderServer, params: lsp.InitializeParams) -> None:
        ls.settings, ls.pending_problems = parse_settings(params.initialization_options, ls.settings)
        ls.pull_at_start = params.initialization_options is None
        pid = params.process_id
        # Watched only if visible now: an editor in another PID namespace (a container, Flatpak, an
        # ssh hop) sends a pid this server cannot see, and must not be taken for a dead one.
        if isinstance(pid, int) and pid > 0 and pid != os.getpid() and process_alive(pid):
            ls.spawn(ls.watch_parent(pid))
        elif isinstance(pid, int) and pid > 0:
            log.info("the client's process %d is not visible here; not watching it", pid)

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: BashcoderServer, params: lsp.InitializedParams) -> None:
        if ls.pending_problems:
            ls.show("invalid settings: " + "; ".join(ls.pending_problems))
            ls.pending_problems = []
        # A client that sent no initializationOptions may keep the settings for workspace/configuration
        # only (and never send didChangeConfiguration): ask it before the model loads.
        ls.spawn(ls.start_up(pull=ls.pull_at_start))

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: BashcoderServer, params: None) -> None:
        ls.shutdown_worker()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: BashcoderServer, params: lsp.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.documents.open(doc.uri, doc.text, doc.language_id, doc.version)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: BashcoderServer, params: lsp.DidChangeTextDocumentParams) -> None:
        doc = params.text_document
        ls.documents.change(doc.uri, _changes(params), doc.version, ls.encoding)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: BashcoderServer, params: lsp.DidCloseTextDocumentParams) -> None:
        ls.documents.close(params.text_document.uri)
        ls.worker.supersede(params.text_document.uri)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: BashcoderServer, params: lsp.DidChangeConfigurationParams) -> None:
        raw = params.settings
        if _is_our_section(raw):
            ls.apply_settings(raw)
        else:  # a bare "something changed": the client keeps them for workspace/configuration
            await ls.pull_settings()

    @server.feature(STATS)
    def stats(ls: BashcoderServer, params: Any) -> dict[str, int]:
        """Diagnostics: what the model worker did so far (jobs started, finished, stale, failed)."""
        return dict(ls.worker.counts)

    @server.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(
        ls: BashcoderServer, params: lsp.InlineCompletionParams
    ) -> lsp.InlineCompletionList:
        cursor = ls.cursor_for(params.text_document.uri, params.position)
        if cursor is None:
            return lsp.InlineCompletionList(items=[])
        suggestions = await ls.suggest(cursor)
        return lsp.InlineCompletionList(
            items=inline_items(suggestions, cursor_position(cursor.pos.line, cursor.prefix, ls.encoding))
        )

    @server.feature(
        lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS)
    )
    async def completion(ls: BashcoderServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        cursor = ls.cursor_for(params.text_document.uri, params.position)
        if cursor is None:
            return lsp.CompletionList(is_incomplete=True, items=[])
        suggestions = await ls.suggest(cursor)
        here = cursor_position(cursor.pos.line, cursor.prefix, ls.encoding)
        return lsp.CompletionList(
            is_incomplete=True,
            items=completion_items(suggestions, here, cursor.prefix, ls.encoding, ls.reads_markdown),
        )

    @server.command(GENERATE)
    async def generate(ls: BashcoderServer, *args: Any) -> dict[str, Any]:
        uri, line = _generate_args(args)
        doc = ls.documents.get(uri)
        if doc is None:
            raise JsonRpcInvalidParams(f"{uri} is not open in the editor; open it and try again.")
        try:
            spot = script_spot(doc.text, line)
        except ValueError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        if not ls.service.ready:
            raise JsonRpcInternalError("the model is still loading; try again in a moment.")
        text, settings = doc.text, ls.settings
        job = ls.worker.submit(
            ("generate", uri),
            lambda stale: ls.service.write_script(spot.prefix, spot.suffix, settings, stale),
        )
        try:
            new_text = insertion(spot, await job.wait())
        except Stale:
            raise JsonRpcInternalError("superseded by a newer generate request.") from None
        except BashcoderError as exc:
            raise JsonRpcInternalError(str(exc)) from None
        if not new_text:
            ls.show("the model wrote nothing for this comment; reword it or try again.", lsp.MessageType.Info)
            return {"applied": False, "text": ""}
        at = position_at(text, spot.insert_at, ls.encoding)
        position = {"line": at.line, "character": at.character}
        workspace = ls.client_capabilities.workspace
        if not (workspace and workspace.apply_edit):
            # LSP: a server sends workspace/applyEdit only to a client that declares it can apply
            # one; any other gets the script and where it goes, to insert itself.
            return {"applied": False, "text": new_text, "position": position}
        where = lsp.Range(lsp.Position(at.line, at.character), lsp.Position(at.line, at.character))
        result = await ls.workspace_apply_edit_async(
            lsp.ApplyWorkspaceEditParams(
                edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=where, new_text=new_text)]}),
                label="bashcoder: generate script",
            )
        )
        return {"applied": bool(result.applied), "text": new_text, "position": position}

    return server
