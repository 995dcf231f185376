"""The REPL's configuration: start-up options and the settings `:set` can change.

Owns the REPL's own settings (the Tab menu, Ctrl-G, where suggestions come
from) and parsing a `:set`
value into a new `Settings`; the shared completion knobs' defaults and
ranges are the engine's (engine/knobs.py). Knows nothing about
prompt_toolkit or the model, and imports no torch (so --help is instant).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.knobs import (
    CANDIDATES,
    DEFAULT_MODE,
    MAX_TOKENS,
    MENU_TEMPERATURE,
    MODES,
    SCRIPT_MAX_TOKENS,
    TEMPERATURE,
    TIME_BUDGET_MS,
    TOP_K,
    TOP_P,
    Mode,
    check_mode,
    surface_default,
)

if TYPE_CHECKING:
    from bashcoder.engine.generate import SamplingConfig

__all__ = ["MODES", "Mode", "ReplConfig", "Settings", "STRATEGIES"]
MENU_CANDIDATES = int(surface_default("repl", "candidates"))
SOURCES = ("history", "model")
"""Where a suggestion can come from."""
STRATEGIES = ("history,model", "model,history", "history", "model")
"""The orders `--suggest` and `:set suggest` accept: each source is asked in turn, the first answer wins."""
_BOOLS = {
    "on": True,
    "true": True,
    "yes": True,
    "1": True,
    "off": False,
    "false": False,
    "no": False,
    "0": False,
}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How suggestions are made: their sources and sampling; `:set NAME VALUE` replaces one field."""

    temperature: float = surface_default("repl", "temperature")
    """Ghost-text sampling temperature (knobs.TEMPERATURE; greedy by default, knobs.GHOST_TEMPERATURE)."""
    top_k: int = int(TOP_K.default)
    """Sample among the k most likely tokens (knobs.TOP_K); 0 turns the filter off."""
    top_p: float = TOP_P.default
    """Nucleus sampling threshold (knobs.TOP_P); 1 turns it off."""
    max_tokens: int = int(MAX_TOKENS.default)
    """Most tokens in a ghost-text suggestion or a Tab candidate (knobs.MAX_TOKENS)."""
    time_budget_ms: int = int(TIME_BUDGET_MS.default)
    """Most milliseconds from a keystroke to its ghost text (knobs.TIME_BUDGET_MS; 0 = no limit): past
    it the model stops and shows what it has written (at least knobs.DEADLINE_MIN_TOKENS tokens), the
    rest comes as you type through it. Piped input (no terminal) and the Tab menu wait for whole answers."""
    mode: Mode = DEFAULT_MODE
    """Where suggestions stop (knobs.MODES): 'line', 'block' or 'auto'."""
    candidates: int = MENU_CANDIDATES
    """Candidates sampled for the Tab menu (knobs.CANDIDATES; see knobs.SURFACE_DEFAULTS)."""
    menu_temperature: float = MENU_TEMPERATURE
    """Temperature of the Tab menu's candidates (higher than ghost text so they differ; knobs.TEMPERATURE)."""
    block_tokens: int = SCRIPT_MAX_TOKENS
    """Most tokens Ctrl-G generates under a comment (knobs.SCRIPT_MAX_TOKENS; range knobs.MAX_TOKENS)."""
    seed: int | None = None
    """Seed for repeatable sampling; None draws fresh randomness."""
    suggest: str = "history,model"
    """Where ghost text comes from, asked in this order (one of STRATEGIES), like zsh-autosuggestions'
    ZSH_AUTOSUGGEST_STRATEGY: history answers at once when an entry starts with the input, else the model."""
    history: bool = True
    """Use past commands (the shell's history file and this REPL's): history suggestions, and the last
    commands in the model's context. Off: no history suggestions, the context holds this session's only."""

    def __post_init__(self) -> None:
        check_mode(self.mode)
        for name, knob in KNOB_OF.items():
            knob.check(getattr(self, name), name)
        if self.suggest not in STRATEGIES:
            raise BashcoderError(
                f"suggest={self.suggest!r} is not a strategy; choose one of {', '.join(STRATEGIES)}."
            )

    @property
    def strategy(self) -> tuple[str, ...]:
        """The sources to ask, in order: ('history', 'model') for 'history,model'."""
        return tuple(self.suggest.split(","))

    def sampling(
        self, *, candidates: int = 1, max_tokens: int | None = None, temperature: float | None = None
    ) -> SamplingConfig:
        """The engine's sampling config for one request."""
        from bashcoder.engine.generate import SamplingConfig  # torch: only once a model runs

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
        names = self.names()
        if name not in names:
            raise BashcoderError(f"unknown setting {name!r}; settable: {', '.join(names)}.")
        current = getattr(self, name)
        value: object
        try:
            if name == "seed":
                value = None if raw.lower() in ("none", "off", "") else int(raw)
            elif isinstance(current, bool):
                if raw.lower() not in _BOOLS:
                    raise BashcoderError(f"{name} is on or off, not {raw!r}.")
                value = _BOOLS[raw.lower()]
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

    def names(self) -> list[str]:
        """The settings `:set` takes."""
        return [f.name for f in dataclasses.fields(self)]

    def describe(self) -> list[str]:
        """One `name = value` line per setting."""
        return [f"{f.name} = {getattr(self, f.name)}" for f in dataclasses.fields(self)]


KNOB_OF = {
    "temperature": TEMPERATURE,
    "top_k": TOP_K,
    "top_p": TOP_P,
    "max_tokens": MAX_TOKENS,
    "time_budget_ms": TIME_BUDGET_MS,
    "candidates": CANDIDATES,
    "menu_temperature": TEMPERATURE,
    "block_tokens": MAX_TOKENS,
}
"""Which engine knob gives each numeric setting its valid range."""


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
    ghost_text: bool = True
    """False (--no-suggest): no ghost text while typing (Tab and Ctrl-G still work)."""
    history_file: Path | None = None
    """Where this REPL's own input history persists; None = $XDG_STATE_HOME/bashcoder/history."""
    shell_history: Path | None = None
    """The shell history file suggestions draw on (read only, never written); None = $HISTFILE, else
    the login shell's (`default_shell_history`: zsh, fish, else ~/.bash_history). Not read at all
    while `Settings.history` is off."""
    threads: int | None = None
    """CPU threads torch may use for the model; None = torch's default (one per core). Batch-1
    decoding is overhead-bound: on busy or shared cores 1 thread was 15x faster than 2 (bench/repl_latency.py)."""
    context_files: int = 0
    """Most file names of the current directory shown to the model. Off by default: the shipped model
    never saw such a list in training and copies names from it (`git st` -> `git stress-tools/`);
    bench/repl_context.py (AMD EPYC) measured next-word accuracy on held-out lines 12.3% with a
    40-file list against 14.7% without (GitHub lines; docs 0.0% against 2.5%), no gain when the list
    held the answer (0% both), and 1.5x the time an answer."""
    context_commands: int = 5
    """How many recent commands are shown to the model."""
    settings: Settings = field(default_factory=Settings)
    """Initial sampling settings."""

    def history_path(self) -> Path:
        """This REPL's own history file."""
        return self.history_file or default_history_file()

    def shell_history_path(self) -> Path:
        """The shell's history file: --shell-history, else `default_shell_history()`."""
        if self.shell_history is not None:
            return self.shell_history
        return default_shell_history(os.environ, Path.home())


def default_shell_history(env: Mapping[str, str], home: Path) -> Path:
    """$HISTFILE when exported; else the history of the login shell $SHELL names: zsh's
    ${ZDOTDIR:-~}/.zsh_history (or .zhistory, the other name zsh setups use), fish's
    $XDG_DATA_HOME/fish/fish_history; else ~/.bash_history. zsh and bash keep HISTFILE a shell
    variable, not exported, so a zsh user (macOS's default shell) would otherwise get bash's file,
    usually absent. Pure but for checking which of zsh's two names exists."""
    named = env.get("HISTFILE", "")
    if named.strip():
        return Path(named).expanduser()
    shell = Path(env.get("SHELL", "")).name
    if shell == "zsh":
        zdot = Path(env["ZDOTDIR"]).expanduser() if env.get("ZDOTDIR", "").strip() else home
        found = [zdot / name for name in (".zsh_history", ".zhistory") if (zdot / name).is_file()]
        return found[0] if found else zdot / ".zsh_history"
    if shell == "fish":
        data = env.get("XDG_DATA_HOME", "").strip()
        return (Path(data) if data else home / ".local" / "share") / "fish" / "fish_history"
    return home / ".bash_history"
