"""Which steps of a training loop a profile records: torch's ``ProfilerAction`` and
``schedule(wait, warmup, active, repeat, skip_first)``.

After ``skip_first`` steps, each cycle of ``wait + warmup + active`` steps waits (NONE),
warms up (WARMUP: nothing is timed yet, ffnn has nothing to warm up) and records (RECORD);
its last recorded step is RECORD_AND_SAVE, after which ``on_trace_ready`` is called. With
``repeat > 0`` there are that many cycles, then NONE; with ``repeat=0`` cycles go on.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Callable


class ProfilerAction(enum.Enum):
    """What the profiler does at a step (``DEVICE_STOPPED`` is torch's internal state when
    a GPU trace stops early: never returned by a schedule)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def _check_count(name: str, value, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"schedule: {name} must be an int >= {least}. "
                         f"Received: {name}={value!r}")


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """The action at each step (``fn(step) -> ProfilerAction``), as torch's ``schedule``.
    ``skip_first_wait`` non-zero: the first cycle does not wait. Raises ValueError for a
    negative count or ``active < 1``; warns, as torch, when ``warmup`` is 0."""
    for name, value in (("wait", wait), ("warmup", warmup), ("repeat", repeat),
                        ("skip_first", skip_first), ("skip_first_wait", skip_first_wait)):
        _check_count(name, value, 0)
    _check_count("active", active, 1)
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"schedule: the step must be an int >= 0. Received: step={step!r}")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def default_schedule(step: int) -> ProfilerAction:
    """Without a schedule: every step is recorded."""
    return ProfilerAction.RECORD
