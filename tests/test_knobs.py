"""Every surface that exposes a completion knob agrees with the engine's table (engine/knobs.py):
the same default (unless knobs.SURFACE_DEFAULTS gives another with its reason) and the same range."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import click
import pytest

from bashcoder.cli.generate import main as generate_cmd
from bashcoder.cli.repl import main as repl_cmd
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.knobs import DEFAULT_MODE, KNOBS, MODES, SURFACE_DEFAULTS, surface_default
from bashcoder.repl.config import KNOB_OF, Settings
from bashcoder.server.settings import ServerSettings, parse_settings

ROOT = Path(__file__).resolve().parents[1]
SERVER_KEYS = {"temperature": "temperature", "topK": "top_k", "topP": "top_p", "maxTokens": "max_tokens",
               "timeBudgetMs": "time_budget_ms", "candidates": "candidates"}  # fmt: skip


def option(command: click.Command, name: str) -> click.Option:
    return next(p for p in command.params if isinstance(p, click.Option) and p.name == name)


def bounds(param_type: click.ParamType) -> tuple[float | None, float | None, bool]:
    assert isinstance(param_type, (click.IntRange, click.FloatRange)), param_type
    return param_type.min, param_type.max, bool(param_type.min_open)


@pytest.mark.parametrize("key,attr", sorted(SERVER_KEYS.items()))
def test_the_language_server_uses_the_engine_default_and_range(key: str, attr: str) -> None:
    knob = KNOBS[attr]
    assert getattr(ServerSettings(), attr) == surface_default("server", attr)
    below = knob.lo - 1 if not knob.open_lo else knob.lo
    settings, problems = parse_settings({key: below})
    assert problems and getattr(settings, attr) == surface_default("server", attr)
    if knob.hi is not None:
        _, problems = parse_settings({key: knob.hi})
        assert problems == []
        _, problems = parse_settings({key: knob.hi + 1})
        assert problems and knob.describe_range() in problems[0]


@pytest.mark.parametrize("attr", sorted(KNOB_OF))
def test_the_repl_settings_and_options_use_the_engine_defaults_and_ranges(attr: str) -> None:
    knob = KNOB_OF[attr]
    if attr in KNOBS:
        assert getattr(Settings(), attr) == surface_default("repl", attr)
    lo, hi, open_lo = bounds(option(repl_cmd, attr).type)
    assert (lo, hi, open_lo) == (knob.lo, knob.hi, knob.open_lo)
    assert option(repl_cmd, attr).default == getattr(Settings(), attr)
    with pytest.raises(BashcoderError, match=attr):
        Settings(**{attr: (knob.hi + 1) if knob.hi is not None else knob.lo - 1})


@pytest.mark.parametrize("attr", ["temperature", "top_k", "top_p", "max_tokens", "repetition_penalty"])
def test_bashcoder_generate_options_use_the_engine_defaults_and_ranges(attr: str) -> None:
    knob = KNOBS[attr]
    opt = option(generate_cmd, attr)
    assert opt.default == surface_default("generate", attr)
    assert bounds(opt.type) == (knob.lo, knob.hi, knob.open_lo)


def test_the_vscode_extension_declares_the_engine_defaults_and_ranges() -> None:
    manifest = json.loads((ROOT / "clients" / "vscode" / "package.json").read_text())
    props = manifest["contributes"]["configuration"]["properties"]
    for key, attr in SERVER_KEYS.items():
        knob = KNOBS[attr]
        prop = props[f"bashcoder.{key}"]
        assert prop["default"] == surface_default("server", attr), key
        assert prop.get("minimum", prop.get("exclusiveMinimum")) == knob.lo, key
        assert prop.get("maximum") == knob.hi, key
    assert props["bashcoder.mode"]["default"] == DEFAULT_MODE
    assert tuple(props["bashcoder.mode"]["enum"]) == MODES


def test_every_surface_default_that_differs_gives_its_reason() -> None:
    for (surface, name), (value, reason) in SURFACE_DEFAULTS.items():
        assert name in KNOBS and surface in {"generate", "repl", "server"}
        assert KNOBS[name].valid(value) and value != KNOBS[name].default
        assert len(reason.split()) >= 4, f"{surface}.{name} needs a reason"


def test_the_engine_sampling_config_defaults_are_the_knobs() -> None:
    from bashcoder.engine.generate import SamplingConfig

    defaults = {f.name: f.default for f in fields(SamplingConfig)}
    for name in ("temperature", "top_k", "top_p", "max_tokens", "repetition_penalty"):
        assert defaults[name] == KNOBS[name].default
