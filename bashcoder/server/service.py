"""The model as the language server uses it: load, complete at a cursor, write a script.

Owns the loaded `Generator` and `Completer` (which own the suggestion itself:
windows, line endings, post-processing, ranking), the answers that need no
model (type-through and an exact repeat of the last request), and the
no-prefix-cache switch the latency benchmark compares against. It knows
nothing of pygls: the handlers in `server` call it, model work on the
worker thread and `cached` on the event loop.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bashcoder.engine.completer import Completer, CompletionRequest, Suggestion
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.knobs import MENU_TEMPERATURE, SCRIPT_BEST_OF, SCRIPT_MAX_TOKENS, SCRIPT_TEMPERATURE
from bashcoder.engine.loader import find_model, load_generator
from bashcoder.engine.rerank import RerankConfig
from bashcoder.engine.syntax import candidate_ok
from bashcoder.server.settings import ServerSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    """What the status line shows about the loaded model."""

    model: str
    """The model directory."""
    device: str
    """"cpu", "cuda" or "mps"."""
    description: str
    """The device in words (CPU model, AMX, GPU name), for the log."""


def sampling_for(settings: ServerSettings, max_tokens: int | None = None) -> SamplingConfig:
    """Sampling knobs from the client's settings (pure).

    Greedy (temperature 0) with several candidates: the first stays greedy, the others are drawn
    at knobs.MENU_TEMPERATURE, or they would all be the same one.
    """
    greedy_first = settings.temperature == 0 and settings.candidates > 1
    return SamplingConfig(
        temperature=MENU_TEMPERATURE if greedy_first else settings.temperature,
        top_k=settings.top_k,
        top_p=settings.top_p,
        max_tokens=max_tokens or settings.max_tokens,
        num_candidates=settings.candidates,
        greedy_first=greedy_first,
    )


def reset_prefix_cache(generator: Generator) -> None:
    """Forget the KV cache of the previous prompt, so the next call prefills from scratch.

    Only for measuring what the cache saves.
    """
    generator.reset_cache()


class CompletionService:
    """The loaded model; `load`, `complete` and `write_script` run on the model worker thread."""

    def __init__(self, reuse_prefix_cache: bool = True) -> None:
        self.reuse_prefix_cache = reuse_prefix_cache
        self.generator: Generator | None = None
        self.completer: Completer | None = None
        self.info: ModelInfo | None = None
        self._exact: tuple[CompletionRequest, list[Suggestion]] | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.completer is not None

    def load(self, model: str | None, device: str | None) -> ModelInfo:
        """Load (and warm up) a model; the previous one serves until this one is ready."""
        path = find_model(model)
        generator = load_generator(path, device)
        _warm_up(generator)
        info = ModelInfo(str(Path(generator.loaded.path)), generator.plan.kind, generator.plan.describe())
        with self._lock:
            self.generator = generator
            self.completer = Completer(generator)
            self.info = info
            self._exact = None
        return info

    def request(
        self, prefix: str, suffix: str, settings: ServerSettings, started: float | None = None
    ) -> CompletionRequest | None:
        """The engine request for a cursor; None before a model is loaded.

        `started` (`time.perf_counter()`) is when the keystroke's request arrived: the time
        budget counts from there, queueing included (default: now).
        """
        generator = self.generator
        if generator is None:
            return None
        ctx = generator.cfg.context_length
        return CompletionRequest(
            prefix=prefix,
            suffix=suffix,
            started=time.perf_counter() if started is None else started,
            mode=settings.mode,
            # A prompt needs room too: at most half the context goes to the completion.
            sampling=sampling_for(settings, min(settings.max_tokens, ctx // 2)),
            # The syntax check only orders candidates (`bash -n` runs 1-2 times per candidate, ~5 ms
            # each on 2 cores): a single candidate has nothing to be ordered against.
            check_syntax=settings.candidates > 1,
            time_budget_ms=settings.time_budget_ms,
            rerank=RerankConfig() if settings.rerank else None,
        )

    def cached(self, req: CompletionRequest) -> list[Suggestion] | None:
        """An answer without the model: the same request again, or type-through; else None."""
        with self._lock:
            completer, exact = self.completer, self._exact
        if completer is None:
            return None
        if exact is not None and exact[0] == req:
            return exact[1]
        return completer.cached(req.prefix, req.suffix)

    def complete(
        self, req: CompletionRequest, is_stale: Callable[[], bool] | None = None
    ) -> list[Suggestion]:
        """Ranked suggestions for a request; raises `Stale` when superseded or cancelled."""
        completer = self.completer
        if completer is None:
            return []
        if not self.reuse_prefix_cache:
            reset_prefix_cache(completer.generator)
        suggestions = completer.complete(req, is_stale)
        with self._lock:
            self._exact = (req, suggestions)
        return suggestions

    def write_script(
        self, prefix: str, suffix: str, settings: ServerSettings, is_stale: Callable[[], bool] | None = None
    ) -> str:
        """A script body for the text after `prefix` (which ends with a `# comment` line); "" if none."""
        completer = self.completer
        if completer is None:
            return ""
        max_tokens = min(
            max(settings.max_tokens, SCRIPT_MAX_TOKENS), completer.generator.cfg.context_length // 2
        )
        # Greedy scripts loop: at temperature 0 (the ghost text's default) a script is sampled at
        # SCRIPT_TEMPERATURE, `bashcoder-generate`'s default; the best of several draws is shown.
        sampling = dataclasses.replace(
            sampling_for(settings, max_tokens),
            temperature=settings.temperature or SCRIPT_TEMPERATURE,
            num_candidates=max(settings.candidates, SCRIPT_BEST_OF),
            greedy_first=False,
        )
        req = dataclasses.replace(
            self.request(prefix, suffix, settings) or CompletionRequest(prefix, suffix),
            mode="block",
            sampling=sampling,
            check_syntax=True,
            time_budget_ms=0,  # a whole script is asked for on purpose: the user waits for it
        )
        ranked = completer.write_script(req, is_stale)
        return ranked[0].text if ranked else ""


def _warm_up(generator: Generator) -> None:
    """Run each path a request takes once, so the first keystroke pays no one-off costs."""
    prompt = generator.fim_prompt("#!/bin/bash\necho ", "\n", 4)
    generator.generate(prompt, SamplingConfig(max_tokens=2, num_candidates=2, seed=0))
    reset_prefix_cache(generator)
    candidate_ok("#!/bin/bash\n", "echo hi\n", "")
