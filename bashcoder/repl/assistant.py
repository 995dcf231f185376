"""The REPL's one door to the model: ghost text, Tab candidates and Ctrl-G blocks.

Holds the loaded `Generator`, two engine `Completer`s sharing it (ghost text
and the Tab menu keep separate type-through memories), the live `Settings`,
the context of the current prompt and the last latency. Every method may run
on a worker thread; the Generator's lock serialises the model itself.
Everything the REPL sends to the model passes here, through
`rawtext.for_model`, so input that is not UTF-8 never reaches the tokenizer.
Knows nothing about prompt_toolkit.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bashcoder.engine.completer import Completer, CompletionRequest, Suggestion, postprocess
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Generator, Halt
from bashcoder.engine.loader import find_model, load_generator
from bashcoder.engine.stops import stop_rule_for
from bashcoder.repl.check import classify
from bashcoder.repl.config import Settings
from bashcoder.repl.rawtext import for_model

StaleCheck = Callable[[], bool]


def load(model_path: str | os.PathLike[str] | None, device: str | None) -> Generator:
    """Load a model; any failure becomes a one-line `BashcoderError`."""
    path = find_model(model_path)
    try:
        return load_generator(path, device)
    except BashcoderError:
        raise
    except Exception as exc:  # a torn file, an old format: say so in one line
        raise BashcoderError(
            f"could not load the model in {path} ({type(exc).__name__}: {exc}); "
            "pass --model DIR with a model saved by bashcoder-train."
        ) from exc


@dataclass(frozen=True)
class Latency:
    """How long the last suggestion took."""

    ms: float
    """Wall time from request to answer, in milliseconds."""
    cached: bool
    """True when answered by type-through, without the model."""


def offers_next_line(before: str, text: str) -> bool:
    """Whether ghost text `text` may follow the input `before` (pure but for `bash -n`).

    A suggestion that starts a new line after a non-empty line is the next
    command when the input is complete (a shell suggests nothing there), but
    the body of a block the input opened (`for f in *; do`, `if ...; then`),
    which Enter would continue anyway.
    """
    if not text.startswith("\n") or not before.rsplit("\n", 1)[-1].strip():
        return True
    return classify(before).state == "incomplete"


_CLOSER_AFTER_SEMICOLON = re.compile(r";\s*(?:done|fi|esac|[})])(?![\w-])")
MAX_TAIL_CUTS = 4
"""`bash -n` runs (~5 ms each) spent on shortening a suggestion that breaks the command."""


def drop_broken_tail(before: str, text: str) -> str:
    """A one-line suggestion without the `;`-separated commands at its end that make bash reject it.

    A small model closes a loop again and again (`for f in *; do` -> ` echo "$f";
    done; done; done`); the completer's closers only add what is missing, so
    surplus ones are cut here: at most MAX_TAIL_CUTS commands are dropped
    from the end, the first prefix bash accepts (complete or still open) wins,
    and a suggestion that stays broken is kept as it was (bash will say why).
    """
    # bash -n costs ~5 ms a keystroke (type-through included): only a closer after a `;` can be surplus.
    if "\n" in text or not _CLOSER_AFTER_SEMICOLON.search(text) or classify(before + text).state != "error":
        return text
    cut = text
    for _ in range(MAX_TAIL_CUTS):
        if ";" not in cut:
            break
        cut = cut.rsplit(";", 1)[0].rstrip()
        if cut.strip() and classify(before + cut).state in ("complete", "incomplete"):
            return cut
    return text


class Assistant:
    """Suggestions at a cursor in the REPL's input, with the prompt's context in front."""

    def __init__(self, generator: Generator, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.context = ""
        """Text in front of the user's input (see `context.snapshot`); set once per prompt."""
        self.last_latency: Latency | None = None
        self._use(generator)

    def _use(self, generator: Generator) -> None:
        self.generator = generator
        self.ghost = Completer(generator)
        self.menu = Completer(generator)

    # ---- what the toolbar shows ------------------------------------------
    @property
    def model_name(self) -> str:
        return Path(self.generator.loaded.path).name

    @property
    def device_name(self) -> str:
        return self.generator.plan.device.type

    def load_model(self, path: str | os.PathLike[str], device: str | None = None) -> None:
        """Swap in another model; on failure the current one stays."""
        device = device or str(self.generator.plan.device)
        self._use(load(path, device))

    # ---- requests --------------------------------------------------------
    def _tokens(self, wanted: int) -> int:
        """`wanted`, capped so the prompt keeps at least half the context window."""
        return max(1, min(wanted, self.generator.cfg.context_length // 2))

    def suggest(
        self, before: str, after: str = "", is_stale: StaleCheck | None = None, timed: bool = True
    ) -> Suggestion | None:
        """Ghost text for a cursor between `before` and `after` in the input; None if nothing fits.

        Raises `generate.Stale` when `is_stale()` turns true. `timed` applies the
        settings' time budget (a keystroke's); off, the whole answer is waited for.
        """
        s = self.settings
        start = time.perf_counter()
        req = CompletionRequest(
            for_model(self.context + before),
            for_model(after),
            s.mode,
            s.sampling(max_tokens=self._tokens(s.max_tokens)),
            check_syntax=False,  # one candidate: nothing to rank, and bash -n costs milliseconds
            time_budget_ms=s.time_budget_ms if timed else 0,
            started=start,
        )
        found = self.ghost.complete(req, is_stale)
        best = found[0] if found else None
        self.last_latency = Latency((time.perf_counter() - start) * 1000, bool(best and best.from_cache))
        if best is None:
            return None
        if not offers_next_line(before, best.text):
            return None
        text = drop_broken_tail(before, best.text)
        return replace(best, text=text) if text else None

    def candidates(
        self, before: str, after: str = "", is_stale: StaleCheck | None = None
    ) -> list[Suggestion]:
        """Distinct candidates for the Tab menu, parseable ones first, each with its syntax mark."""
        s = self.settings
        req = CompletionRequest(
            for_model(self.context + before),
            for_model(after),
            s.mode,
            s.sampling(
                candidates=s.candidates, max_tokens=self._tokens(s.max_tokens), temperature=s.menu_temperature
            ),
            check_syntax=True,
        )
        self.menu.forget()  # a Tab press asks the model afresh
        return self.menu.complete(req, is_stale)

    def generate_block(
        self,
        before: str,
        after: str = "",
        on_text: Callable[[str], None] | None = None,
        is_stale: StaleCheck | None = None,
    ) -> str:
        """A block of bash at a line start (under a comment), streamed through `on_text`.

        Returns the post-processed block (compounds closed, nothing that repeats
        `after`); raises `generate.Stale` when `is_stale()` turns true.
        """
        s = self.settings
        prefix, after = for_model(self.context + before), for_model(after)
        max_tokens = self._tokens(s.block_tokens)
        stop = stop_rule_for(prefix, "block")
        prompt, healing = self.generator.cursor_prompt(prefix, after, max_tokens)

        def stream(row: int, text: str) -> None:
            if on_text is not None and row == 0:
                on_text(text)

        found = self.generator.generate(
            prompt, s.sampling(max_tokens=max_tokens), stop, Halt(is_stale), stream, healing=healing
        )
        return postprocess(prefix, after, found[0].text, stop.mode) if found else ""
