"""The settings contract between `bashcoder-lsp` and its editor clients.

This module owns what a client may send as settings (initializationOptions or
`workspace/didChangeConfiguration`) and their camelCase wire names; the
defaults and valid ranges are the engine's (engine/knobs.py). Parsing never fails: a bad value is reported
in a one-line problem and replaced by the base value. It imports no pygls and
nothing of the engine but `BashcoderError`; the server shows the problems to the
user and logs them.

The VS Code extension contributes `bashcoder.<key>` for every key in
`SETTING_KEYS` plus the client-only keys in `CLIENT_KEYS`; a test checks that
the two sides hold the same names.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.knobs import (
    CANDIDATES,
    DEFAULT_MODE,
    MAX_TOKENS,
    MODES,
    TEMPERATURE,
    TIME_BUDGET_MS,
    TOP_K,
    TOP_P,
    Knob,
    Mode,
    surface_default,
)

SECTION = "bashcoder"
"""The settings section: clients send either `{"bashcoder": {...}}` or the bare dict."""

DEVICES = ("cuda", "mps", "cpu")


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """What a client can change about the completions it gets."""

    model: str | None = None
    """Path to a model directory; None (or "") means the default lookup: `BASHCODER_MODEL`, then the
    model shipped in the package."""
    device: str | None = None
    """"cuda", "mps" or "cpu"; None (or "auto") lets the engine choose cuda > mps > cpu."""
    temperature: float = surface_default("server", "temperature")
    """Sampling temperature (knobs.TEMPERATURE); 0, the default, means greedy (argmax): with one
    candidate the same cursor gets the same suggestion (knobs.GHOST_TEMPERATURE); with `candidates`
    > 1 the first is greedy, the others are drawn at knobs.MENU_TEMPERATURE so they differ, and the
    ranking (bash -n, then likelihood) orders them. The generate command's scripts are sampled
    at this temperature, or knobs.SCRIPT_TEMPERATURE when it is 0 (greedy scripts loop)."""
    top_k: int = int(TOP_K.default)
    """Sample only among the k most likely tokens (knobs.TOP_K); 0 turns the filter off."""
    top_p: float = TOP_P.default
    """Nucleus sampling (knobs.TOP_P): the smallest set of tokens whose probability reaches p."""
    max_tokens: int = int(MAX_TOKENS.default)
    """Most tokens generated for one suggestion (knobs.MAX_TOKENS; at most half the model's context)."""
    time_budget_ms: int = int(TIME_BUDGET_MS.default)
    """Most milliseconds from a keystroke to its single-line suggestion (knobs.TIME_BUDGET_MS; 0 = no
    limit). When it runs out the model stops and shows what it has written so far (at least
    knobs.DEADLINE_MIN_TOKENS tokens, so a cold start that spends the budget reading the file still
    shows something); the rest of the line comes when the user types through the suggestion or
    accepts it. Multi-line suggestions get knobs.BLOCK_BUDGET_FACTOR times as long. Like llama.vim's
    t_max_predict_ms: ghost text that comes late is ghost text the user has already typed past."""
    candidates: int = int(CANDIDATES.default)
    """Candidates sampled per request and ranked (syntax-valid first, then by log-probability).
    One by default: ghost text shows one suggestion, and on a 2-core CPU three cost ~1.5x the
    latency (bench/lsp_latency.py); on a GPU they cost about the same as one."""
    rerank: bool = True
    """A line with a line after it (editing inside a file): also draw the greedy line and 4 samples
    left to right and show the line that best leads into the next one (`engine.rerank`: next-line
    exact on the validation split 14.4% -> 21.6%). It costs ~10x the FIM line, so under the time
    budget it runs only when that much is left (knobs.RERANK_COST_FACTOR): on a 2-core CPU, with
    `timeBudgetMs` 0; on a machine fast enough, within the default budget."""
    mode: Mode = DEFAULT_MODE
    """"line" stops at the end of the line, "block" at the end of the compound command or a blank
    line, "auto" a block on an empty line and at the end of a line that opens one (`; do`), else a line
    (engine/stops.py `choose_mode`)."""
    enabled: bool = True
    """False silences completions without stopping the server."""

    def __post_init__(self) -> None:
        for spec in _SPECS:
            value = getattr(self, spec.attr)
            try:
                normalised = spec.check(value)
            except _Invalid as exc:
                raise BashcoderError(
                    f"ServerSettings.{spec.attr}={_show(value)} is invalid: expected {exc}."
                ) from None
            object.__setattr__(self, spec.attr, normalised)  # 40.0 -> 40, "" -> None (frozen)


class _Invalid(ValueError):
    """A value outside its field's domain; the message says what was expected."""


@dataclass(frozen=True)
class _Spec:
    key: str
    """camelCase wire name."""
    attr: str
    """Field name on ServerSettings."""
    check: Callable[[Any], Any]
    """Returns the normalised value or raises _Invalid naming the valid range."""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _knob(knob: Knob) -> Callable[[Any], float]:
    """The check of one engine knob; JSON has one number type, so 40.0 is a fine 40."""

    def check(value: Any) -> float:
        if not _is_number(value) or not knob.valid(value):
            raise _Invalid(knob.describe_range())
        return int(value) if knob.integer else float(value)

    return check


def _model(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Invalid('a path to a model directory, or null/"" for the default model')
    return value


def _device(value: Any) -> str | None:
    if value is None or value in ("", "auto"):
        return None
    if value not in DEVICES:
        raise _Invalid('one of "auto", "cuda", "mps", "cpu" (or null for auto)')
    return str(value)


def _mode(value: Any) -> Mode:
    if value not in MODES:
        raise _Invalid('one of "line", "block", "auto"')
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("true or false")
    return value


_SPECS: tuple[_Spec, ...] = (
    _Spec("model", "model", _model),
    _Spec("device", "device", _device),
    _Spec("temperature", "temperature", _knob(TEMPERATURE)),
    _Spec("topK", "top_k", _knob(TOP_K)),
    _Spec("topP", "top_p", _knob(TOP_P)),
    _Spec("maxTokens", "max_tokens", _knob(MAX_TOKENS)),
    _Spec("timeBudgetMs", "time_budget_ms", _knob(TIME_BUDGET_MS)),
    _Spec("candidates", "candidates", _knob(CANDIDATES)),
    _Spec("rerank", "rerank", _bool),
    _Spec("mode", "mode", _mode),
    _Spec("enabled", "enabled", _bool),
)
assert [s.attr for s in _SPECS] == [f.name for f in fields(ServerSettings)], "one spec per field, in order"

SETTING_KEYS: tuple[str, ...] = tuple(s.key for s in _SPECS)
"""The wire names of the server's settings, in field order."""

CLIENT_KEYS: frozenset[str] = frozenset({"serverPath", "trace"})
"""Keys in the `bashcoder` section that only clients read: how to start the server (`serverPath`)
and vscode-languageclient's message log (`trace.server`, sent as `{"trace": {"server": ...}}`).
VS Code sends its whole section, so the server accepts these silently; the parity test leaves them out."""


def _show(value: object, limit: int = 60) -> str:
    """A short one-line rendering of a client's value, as JSON where possible."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_settings(raw: object, base: ServerSettings | None = None) -> tuple[ServerSettings, list[str]]:
    """Settings from a client's JSON, and one line per problem found.

    `raw` is `{"bashcoder": {...}}` or the bare section (None means nothing sent). Keys that are
    absent keep their value from `base` (the defaults when None); an invalid value also keeps the
    base value and yields a problem naming the key, the value and what is valid; unknown keys are
    reported and ignored. It never raises.
    """
    base = base if base is not None else ServerSettings()
    if isinstance(raw, Mapping) and SECTION in raw:
        # The wrapped form; other top-level sections belong to other tools and are not ours to judge.
        raw = raw[SECTION]
    if raw is None or raw == []:
        # Lua encodes an empty table as [], so an empty list from Neovim means "nothing set".
        return base, []
    if not isinstance(raw, Mapping):
        return base, [f"{SECTION}: settings must be an object of key/value pairs, got {_show(raw)}"]

    changes: dict[str, Any] = {}
    problems: list[str] = []
    by_key = {s.key: s for s in _SPECS}
    for key, value in raw.items():
        spec = by_key.get(key) if isinstance(key, str) else None
        if spec is None:
            if key not in CLIENT_KEYS:
                problems.append(_unknown(key))
            continue
        try:
            changes[spec.attr] = spec.check(value)
        except _Invalid as exc:
            kept = getattr(base, spec.attr)
            problems.append(
                f"{SECTION}.{key}: {_show(value)} is invalid, expected {exc}; using {_show(kept)}"
            )
    return replace(base, **changes), problems


def _unknown(key: object) -> str:
    close = difflib.get_close_matches(str(key), SETTING_KEYS, n=1, cutoff=0.6)
    snake = {s.attr: s.key for s in _SPECS}.get(str(key))
    hint = snake or (close[0] if close else None)
    known = ", ".join(SETTING_KEYS)
    return (
        f"{SECTION}.{key}: unknown setting, ignored"
        + (f" (did you mean {hint}?)" if hint else "")
        + f"; known settings: {known}"
    )
