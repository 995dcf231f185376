"""The model's lifecycle in the server: which model the settings ask for, loading it on the worker
with a progress report, falling back to the command line's model, and keeping the old one serving
until the new one is ready. A mixin of `BashcoderServer` (it uses its settings, service, worker).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Stale
from bashcoder.server.service import ModelInfo
from bashcoder.server.settings import SECTION, parse_settings

if TYPE_CHECKING:
    from bashcoder.server.server import ServerOptions
    from bashcoder.server.service import CompletionService
    from bashcoder.server.settings import ServerSettings
    from bashcoder.server.worker import Worker

log = logging.getLogger(__name__)
LOAD_KEY = ("load",)
"""The worker key of model loads: a newer load supersedes an older one."""
CLIENT_REPLY_TIMEOUT_S = 2.0
"""How long start-up waits for the client to answer workspace/configuration or
window/workDoneProgress/create: a client that never answers must not keep the model from loading."""


class ModelLifecycle:
    """Settings in, a loaded model out."""

    options: ServerOptions
    settings: ServerSettings
    service: CompletionService
    worker: Worker
    model_spec: tuple[str | None, str | None] | None
    loaded_spec: tuple[str | None, str | None] | None
    failed_spec: tuple[str | None, str | None] | None = None
    """The last model the settings asked for that failed to load: not retried (with its error
    pop-up) at every later settings change, only when the settings ask for it again after another."""
    client_capabilities: Any
    work_done_progress: Any
    workspace_configuration_async: Any

    # show(), spawn() and notify_status() come from BashcoderServer.

    def apply_settings(self, raw: object) -> None:
        """New settings from the client; problems are shown, bad values keep their old value."""
        self.settings, problems = parse_settings(raw, self.settings)
        if problems:
            self.show("invalid settings: " + "; ".join(problems))
        spec = self.wanted_model()
        if self.model_spec is not None and spec != self.model_spec and spec != self.failed_spec:
            self.spawn(self.load_model())

    async def pull_settings(self) -> None:
        """Ask the client for the `bashcoder` section (workspace/configuration) and apply it.

        Nothing happens for a client without that capability; one that errs,
        or does not answer within CLIENT_REPLY_TIMEOUT_S, keeps the settings
        as they are (logged).
        """
        workspace = self.client_capabilities.workspace
        if not (workspace and workspace.configuration):
            return
        params = lsp.ConfigurationParams(items=[lsp.ConfigurationItem(section=SECTION)])
        try:
            pulled = await asyncio.wait_for(
                self.workspace_configuration_async(params), CLIENT_REPLY_TIMEOUT_S
            )
        except Exception as exc:  # an error reply or no reply (TimeoutError)
            log.info("workspace/configuration failed: %r", exc)
            return
        self.apply_settings(pulled[0] if pulled else None)

    async def start_up(self, pull: bool) -> None:
        """After `initialized`: the settings the client keeps (when `pull`), then the model."""
        if pull:
            await self.pull_settings()
        await self.load_model()

    def wanted_model(self) -> tuple[str | None, str | None]:
        return (self.settings.model or self.options.model, self.settings.device or self.options.device)

    async def load_model(self) -> None:
        """Load the model on the worker, with a progress report where the client shows one."""
        spec = self.model_spec = self.wanted_model()
        self.failed_spec = None
        fallback = (self.options.model, self.options.device)
        token = await self._begin_progress(f"loading model {spec[0] or '(default)'}")
        try:
            info = await self._load(spec)
            if info is None and self.service.ready:
                self.model_spec = self.loaded_spec  # keep serving the model already loaded
            elif info is None and spec != fallback:
                self.model_spec = fallback
                info = await self._load(fallback)
            if info is not None:
                self.loaded_spec = self.model_spec
        finally:
            if token is not None:
                self.work_done_progress.end(
                    token, lsp.WorkDoneProgressEnd(message="ready" if self.service.ready else "failed")
                )
        if info is not None:
            log.info("model %s ready on %s", info.model, info.description)
            self.notify_status()

    async def _load(self, spec: tuple[str | None, str | None]) -> ModelInfo | None:
        try:
            return await self.worker.submit(LOAD_KEY, lambda _stale: self.service.load(*spec)).wait()
        except Stale:
            return None  # a newer load replaced this one
        except BashcoderError as exc:
            self.failed_spec = self.failed_spec or spec
            self.show(f"could not load the model: {exc}", lsp.MessageType.Error)
        except Exception as exc:  # a broken model directory must not take the server down
            self.failed_spec = self.failed_spec or spec
            log.exception("model load failed")
            self.show(f"could not load the model: {exc}", lsp.MessageType.Error)
        return None

    async def _begin_progress(self, message: str) -> str | None:
        capabilities = self.client_capabilities
        if not (capabilities.window and capabilities.window.work_done_progress):
            return None
        token = f"bashcoder-load-{uuid.uuid4()}"
        try:
            await asyncio.wait_for(self.work_done_progress.create_async(token), CLIENT_REPLY_TIMEOUT_S)
        except Exception as exc:  # refused, or no answer (TimeoutError): load without a progress report
            log.info("client refused a progress token: %r", exc)
            return None
        self.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title="bashcoder", message=message))
        return token
