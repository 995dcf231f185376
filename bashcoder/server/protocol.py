"""pygls' protocol with two changes, kept apart because they reach into pygls internals.

1. Requests whose params do not parse are answered with InvalidParams, and
   requests whose method is not a string with InvalidRequest, instead of being
   dropped (pygls raises inside `structure_message`, and the client would wait
   forever); so are requests after `shutdown` (InvalidRequest; pygls drops
   them), a second `initialize` (InvalidRequest), and requests before
   `initialize` (ServerNotInitialized; pygls would serve them).
2. Documents live in `server.documents` only: pygls' own copy in its workspace
   would cost a second O(size) edit per keystroke (~100 ms on a 5 MB file), so
   the built-in didOpen/didChange/didClose handlers only pass the params on.

tests/server/test_protocol.py fails loudly when a pygls upgrade removes or
renames what this relies on (`structure_message`, `handle_message`,
`_send_response`, `fm.features`, the `lsp_text_document__did_*` names).
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

from lsprotocol import types as lsp
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.protocol import LanguageServerProtocol, lsp_method

log = logging.getLogger(__name__)

PATCHED_METHODS = (
    "lsp_text_document__did_open",
    "lsp_text_document__did_change",
    "lsp_text_document__did_close",
    "structure_message",
    "handle_message",
)
"""pygls methods this protocol overrides; each must exist in pygls' own class."""


class BashcoderProtocol(LanguageServerProtocol):
    """pygls' protocol, answering requests whose params do not parse instead of dropping them.

    Documents live in `documents` only: pygls' own copy in its workspace would cost a
    second O(size) edit per keystroke (~100 ms on a 5 MB file), so the built-in
    didOpen/didChange/didClose handlers only pass the params on.
    """

    _ANSWERED = object()

    def _user_handler(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams) -> Generator[Any, Any, None]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: lsp.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: lsp.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield from self._user_handler(lsp.TEXT_DOCUMENT_DID_CLOSE, params)

    def _invalid_request(self, msg_id: object, message: str) -> None:
        """Answer -32600 Invalid Request; as a plain dict, since pygls' serializer would drop an id
        of null, which JSON-RPC 2.0 requires when the request's own id could not be read."""
        log.warning("invalid request (id %r): %s; answered with an error", msg_id, message)
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": {"code": -32600, "message": message}})

    def structure_message(self, data: dict[str, Any]) -> Any:
        if "jsonrpc" in data and "method" in data:
            msg_id = data.get("id")
            if "id" in data and not _is_id(msg_id):
                self._invalid_request(None, f"a request id must be a number or a string, not {msg_id!r:.40}")
                return self._ANSWERED
            if data["jsonrpc"] != "2.0" and _is_id(msg_id):
                self._invalid_request(msg_id, f'"jsonrpc" must be "2.0", not {data["jsonrpc"]!r:.20}')
                return self._ANSWERED
        try:
            return super().structure_message(data)
        except JsonRpcException:
            msg_id, method = data.get("id"), data.get("method")
            if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) and isinstance(method, str):
                log.warning("invalid params for %s (request %r); answered with an error", method, msg_id)
                error = JsonRpcInvalidParams(f"invalid params for {method}: they do not match the LSP types")
                self._send_response(msg_id, error=error.to_response_error())
                return self._ANSWERED
            if "id" not in data and isinstance(method, str):  # a notification: nobody waits for an answer
                log.warning("ignored %s: its params do not match the LSP types", method)
                return self._ANSWERED
            if isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool) and "method" in data:
                log.warning("request %r has a method that is not a string; answered with an error", msg_id)
                invalid = JsonRpcInvalidRequest(f"the method must be a string, not {method!r:.40}")
                self._send_response(msg_id, error=invalid.to_response_error())
                return self._ANSWERED
            raise

    _initialize_seen = False

    def handle_message(self, message: Any) -> None:
        if message is self._ANSWERED:
            return
        if not hasattr(message, "jsonrpc"):
            # JSON-RPC 2.0 answers what is not a request object with Invalid Request: a batch (LSP
            # has none), a number, null, an object without "jsonrpc". A stray response is ignored.
            if isinstance(message, dict) and ("result" in message or "error" in message):
                log.warning("ignored a response that is not JSON-RPC 2.0: %.200r", message)
                return
            msg_id = message.get("id") if isinstance(message, dict) and "method" in message else None
            if isinstance(message, list):
                what = "a batch (LSP has none)"
            elif isinstance(message, dict):
                what = 'an object without "jsonrpc": "2.0"'
            else:
                what = "null" if message is None else f"a JSON {type(message).__name__}"
            self._invalid_request(msg_id if _is_id(msg_id) else None, f"not a JSON-RPC 2.0 request: {what}")
            return
        method, msg_id = getattr(message, "method", None), getattr(message, "id", None)
        if (
            isinstance(method, str)
            and not hasattr(message, "id")
            and not self._initialize_seen
            and method != "exit"
        ):
            # LSP: before initialize, notifications are dropped (a didOpen stored then was served later).
            log.warning("ignored %s: it came before initialize", method)
            return
        if isinstance(method, str) and msg_id is not None and (error := self._out_of_order(method)):
            # pygls would drop a request after shutdown (the client waits forever) and serve one
            # before initialize; LSP asks for an error answer in both cases.
            log.warning("request %r (%s) answered with an error: %s", msg_id, method, error.message)
            self._send_response(msg_id, error=error.to_response_error())
            return
        if method == lsp.INITIALIZE:
            self._initialize_seen = True
        super().handle_message(message)

    def _out_of_order(self, method: str) -> JsonRpcException | None:
        """The error for a request that comes at the wrong time in the LSP lifecycle, else None."""
        if self._shutdown:
            return JsonRpcInvalidRequest("the server is shutting down; only exit is accepted now")
        if method == lsp.INITIALIZE and self._initialize_seen:
            return JsonRpcInvalidRequest("the server is already initialized")
        if method != lsp.INITIALIZE and not self._initialize_seen:
            return JsonRpcServerNotInitialized("send initialize first")
        return None


def _is_id(value: object) -> bool:
    """A JSON-RPC request id LSP accepts: an integer or a string."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)
