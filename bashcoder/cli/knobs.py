"""Click parameter types for the engine's completion knobs (engine/knobs.py), so options cannot drift."""

from __future__ import annotations

import click

from bashcoder.engine.knobs import Knob


def knob_range(knob: Knob) -> click.ParamType:
    """An IntRange or FloatRange with exactly the knob's bounds."""
    if knob.integer:
        return click.IntRange(int(knob.lo), None if knob.hi is None else int(knob.hi))
    return click.FloatRange(knob.lo, knob.hi, min_open=knob.open_lo)
