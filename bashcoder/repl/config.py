"""The REPL's configuration: start-up options and the settings `:set` can change.

Owns the names, defaults and valid ranges of every knob, and parsing a `:set`
value into a new `Settings`. Knows nothing about prompt_toolkit or the model.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import SamplingConfig

Mode = Literal["line", "block", "auto"]
MODES: tuple[Mode, ...] = ("line", "block", "auto")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How suggestions are sampled; `:set NAME VALUE` replaces one field."""

    temperature: float = 0.2
    """Ghost-text sampling temperature, 0 to 2; 0 is greedy."""
    top_k: int = 40
    """Sample among the k most likely tokens; 0 turns the filter off."""
    top_p: float = 0.95
    """Nucleus sampling threshold in (0, 1]; 1 turns it off."""
    max_tokens: int = 48
    """Most tokens in a ghost-text suggestion or a Tab candidate."""
    time_budget_ms: int = 100
    """Most milliseconds from a keystroke to its ghost text, 0 to 60000 (0 = no limit): past it the
    model stops and shows what it has written (at least 4 tokens), the rest comes as you type
    through it. Piped input (no terminal) and the Tab menu wait for whole answers."""
    mode: Mode = "auto"
    """'line' ends suggestions at the end of the line, 'block' at the end of the compound
    command, 'auto' decides from the cursor's context."""
    candidates: int = 4
    """Candidates sampled for the Tab menu, 1 to 16."""
    menu_temperature: float = 0.8
    """Temperature of the Tab menu's candidates (higher than ghost text so they differ)."""
    block_tokens: int = 192
    """Most tokens Ctrl-G generates under a comment."""
    seed: int | None = None
    """Seed for repeatable sampling; None draws fresh randomness."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise BashcoderError(f"mode {self.mode!r} is unknown; use one of {', '.join(MODES)}.")
        for name in ("temperature", "menu_temperature"):
            value = getattr(self, name)
            if not 0 <= value <= 2:
                raise BashcoderError(f"{name} {value} is outside 0..2; try 0.2 (0 = greedy).")
        if not 1 <= self.candidates <= 16:
            raise BashcoderError(f"candidates {self.candidates} is outside 1..16; try 4.")
        if not 1 <= self.max_tokens <= 1024 or not 1 <= self.block_tokens <= 1024:
            raise BashcoderError("max_tokens and block_tokens must be within 1..1024.")
        if not 0 <= self.time_budget_ms <= 60000:
            raise BashcoderError(
                f"time_budget_ms {self.time_budget_ms} is outside 0..60000; try 100 (0 = no limit)."
            )
        self.sampling()  # SamplingConfig validates top_k and top_p and names the fix

    def sampling(
        self, *, candidates: int = 1, max_tokens: int | None = None, temperature: float | None = None
    ) -> SamplingConfig:
        """The engine's sampling config for one request."""
        return SamplingConfig(
            temperature=self.temperature if temperature is None else temperature,
            top_k=self.top_k,
            top_p=self.top_p,
            max_tokens=self.max_tokens if max_tokens is None else max_tokens,
            num_candidates=candidates,
            seed=self.seed,
        )

    def updated(self, name: str, raw: str) -> Settings:
        """A copy with `name` set from the text `raw`; a `BashcoderError` names the fix."""
        names = [f.name for f in dataclasses.fields(self)]
        if name not in names:
            raise BashcoderError(f"unknown setting {name!r}; settable: {', '.join(names)}.")
        current = getattr(self, name)
        value: object
        try:
            if name == "seed":
                value = None if raw.lower() in ("none", "off", "") else int(raw)
            elif isinstance(current, bool):
                value = raw.lower() in ("1", "true", "on", "yes")
            elif isinstance(current, int):
                value = int(raw)
            elif isinstance(current, float):
                value = float(raw)
            else:
                value = raw
        except ValueError:
            kind = "an integer" if isinstance(current, int) else "a number"
            raise BashcoderError(f"{name} takes {kind}, not {raw!r}.") from None
        return dataclasses.replace(self, **{name: value})

    def describe(self) -> list[str]:
        """One `name = value` line per setting."""
        return [f"{f.name} = {getattr(self, f.name)}" for f in dataclasses.fields(self)]


def state_dir() -> Path:
    """$XDG_STATE_HOME/bashcoder (default ~/.local/state/bashcoder)."""
    base = os.environ.get("XDG_STATE_HOME") or ""
    root = Path(base).expanduser() if base.strip() else Path.home() / ".local" / "state"
    return root / "bashcoder"


def default_history_file() -> Path:
    return state_dir() / "history"


@dataclass(frozen=True, kw_only=True)
class ReplConfig:
    """Start-up options of `bashcoder-repl` (one click option each)."""

    model_path: str | None = None
    """Model directory; None = $BASHCODER_MODEL, then the shipped model."""
    device: str | None = None
    """cuda, mps or cpu; None = $BASHCODER_DEVICE, then the best available."""
    execute: bool = True
    """False (--no-exec): accepted commands are recorded but never run."""
    suggest: bool = True
    """False (--no-suggest): no ghost text while typing (Tab and Ctrl-G still work)."""
    history_file: Path | None = None
    """Where input history persists; None = $XDG_STATE_HOME/bashcoder/history."""
    threads: int | None = None
    """CPU threads torch may use for the model; None = torch's default (one per core). Batch-1
    decoding is overhead-bound: on busy or shared cores 1 thread was 15x faster than 2 (bench/repl_latency.py)."""
    context_files: int = 40
    """Most file names of the current directory shown to the model."""
    context_commands: int = 5
    """How many recent commands are shown to the model."""
    settings: Settings = field(default_factory=Settings)
    """Initial sampling settings."""

    def history_path(self) -> Path:
        return self.history_file or default_history_file()
