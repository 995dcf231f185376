"""Click parameter types for the commands' numbers: the engine's completion knobs (engine/knobs.py),
so options cannot drift, and finite floats, seeds and thread counts that fail as one line."""

from __future__ import annotations

import math
import os
from typing import Any

import click

from bashcoder.engine.knobs import Knob


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that also refuses nan and +-inf.

    click's range check lets nan through (every comparison with it is false),
    and nan or inf then fail deep inside torch with a traceback.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.min is None and self.max is None:
            self.name = "float"  # help shows FLOAT, not FLOAT RANGE

    def _describe_range(self) -> str:
        if self.min is None and self.max is None:
            return "finite"  # click would print "x<=None"
        return super()._describe_range()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number; give a finite one.", param, ctx)
        return number


FINITE_FLOAT = FiniteFloatRange()
"""Any finite float (for `type=float` options)."""

SEED = click.IntRange(0, 2**63 - 1)
"""A seed torch and Python both take (torch refuses what does not fit a signed 64-bit integer)."""


def thread_range() -> click.IntRange:
    """1 to the cores this process may run on: more threads than cores only slow the model,
    and thousands hang or crash OpenMP (libgomp: Thread creation failed)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return click.IntRange(1, max(1, cores))


def knob_range(knob: Knob) -> click.ParamType:
    """An IntRange or finite FloatRange with exactly the knob's bounds."""
    if knob.integer:
        return click.IntRange(int(knob.lo), None if knob.hi is None else int(knob.hi))
    return FiniteFloatRange(knob.lo, knob.hi, min_open=knob.open_lo)
