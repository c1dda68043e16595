"""Anomaly detection for the backward pass: torch's ``detect_anomaly`` / ``set_detect_anomaly``.

While it is on, each op records where its forward was called (only then: a stack summary
without source lines), and the engine runs each op's backward through :func:`checked`: an
error raised there is preceded by a warning naming the op and that forward call, and with
``check_nan`` a gradient holding NaN raises torch's error,
``Function 'Sqrt' returned nan values in its 0th output.`` (the i-th output of a backward
is the gradient of the op's i-th input). Off, the engine pays one module-level boolean check
per op (``autograd._anomaly_enabled``) and records nothing.
"""

from __future__ import annotations

import functools
import sys
import traceback
import warnings
from collections.abc import Callable

from ffnn import autograd
from ffnn.backend import xp

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]

_check_nan = True


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return autograd._anomaly_enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection raises for a NaN gradient (when it is on)."""
    return _check_nan


def _set(mode: bool, check_nan: bool) -> None:
    global _check_nan
    autograd._anomaly_enabled = bool(mode)
    _check_nan = bool(check_nan)


class detect_anomaly:  # noqa: N801 - torch's name
    """``with detect_anomaly():`` (or ``@detect_anomaly()``): anomaly detection on inside,
    with NaN gradients raising unless ``check_nan=False``; warns, as torch, that it is slow."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self) -> None:
        self.prev = (is_anomaly_enabled(), _check_nan)
        _set(True, self.check_nan)

    def __exit__(self, *exc) -> None:
        _set(*self.prev)

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = (is_anomaly_enabled(), _check_nan)
            _set(True, self.check_nan)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(*prev)

        return wrapper


class set_detect_anomaly:  # noqa: N801 - torch's name
    """Turn anomaly detection on or off (``mode``) at once; as a context manager, the previous
    setting comes back on exit."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.prev = (is_anomaly_enabled(), _check_nan)
        _set(mode, check_nan)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        _set(*self.prev)


def forward_stack() -> traceback.StackSummary:
    """The calls that led to the op being applied now, outermost first (``Op.apply`` calls
    this while the mode is on; source lines are read only if a warning shows them)."""
    frames = traceback.walk_stack(sys._getframe(2))
    stack = traceback.StackSummary.extract(frames, lookup_lines=False)
    stack.reverse()
    return stack


def node_name(fn) -> str:
    """The op's name in messages; a user ``Function``'s node as torch names it (``ExpBackward``)."""
    function = fn.__dict__.get("function")
    return f"{function.__name__}Backward" if isinstance(function, type) else fn.op_name


def checked(fn, backward: Callable, *args):
    """``backward(*args)`` (``fn``'s backward, array or tensor form), its failure preceded by
    a warning naming ``fn`` and where it was created; a NaN in its i-th gradient raises
    ``RuntimeError`` (when ``check_nan``)."""
    try:
        input_grads = backward(*args)
    except Exception:
        _warn_origin(fn)
        raise
    if not _check_nan:
        return input_grads
    grads = input_grads if isinstance(input_grads, tuple) else (input_grads,)
    for i, g in enumerate(grads):
        data = getattr(g, "_data", g)
        if getattr(data, "dtype", None) is not None and data.dtype.kind in "fc" and \
                bool(xp(data).isnan(data).any()):
            _warn_origin(fn)
            raise RuntimeError(f"Function '{node_name(fn)}' returned nan values in its {i}th "
                               "output.")
    return input_grads


def _warn_origin(fn) -> None:
    """torch's warning: the failing op and the forward call that created it (if recorded)."""
    stack = fn.__dict__.get("created_at")
    where = "".join(stack.format()) if stack is not None else \
        "  (not recorded: the op was created while anomaly detection was off)\n"
    warnings.warn(f"Error detected in {node_name(fn)}. Traceback of forward call that caused "
                  f"the error:\n{where}", stacklevel=2)
