"""``torch.testing.assert_close``: tensors, numbers and nested sequences or mappings of them
equal within |actual − expected| ≤ atol + rtol·|expected|, elementwise, with torch's default
tolerances per dtype and its messages."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ffnn.tensor import Tensor

_PRECISIONS = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}
"""(rtol, atol) by dtype, torch's; 0 and 0 (equality) for the others."""


def _name(dtype: np.dtype) -> str:
    return f"torch.{np.dtype(dtype).name}"


def _fail(message: str, msg: str | Callable | None):
    raise AssertionError(msg(message) if callable(msg) else message if msg is None else msg)


def _mismatch(actual: np.ndarray, expected: np.ndarray, close: np.ndarray, rtol: float,
              atol: float) -> str:
    """torch's message: how many elements differ, and the greatest differences."""
    common = np.result_type(actual, expected)
    common = common if common.kind in "fc" else np.dtype(np.float64)
    with np.errstate(all="ignore"):
        difference = np.abs(actual.astype(common) - expected.astype(common))
        relative = difference / np.abs(expected.astype(common))
    difference[close], relative[close] = 0, 0
    kind = "equal" if rtol == 0 and atol == 0 else "close"
    lines = []
    for name, values, tol in (("absolute", difference, atol), ("relative", relative, rtol)):
        where = np.unravel_index(int(np.nanargmax(values)), values.shape) if values.size else ()
        at = tuple(int(i) for i in where)
        line = f"Greatest {name} difference: {float(values[where])} at index {at}"
        lines.append(line + ("" if kind == "equal" else f" (up to {tol} allowed)"))
    count, total = int((~close).sum()), close.size
    return (f"Tensor-likes are not {kind}!\n\nMismatched elements: {count} / {total} "
            f"({count / total:.1%})\n" + "\n".join(lines))


def _tolerances(a: np.dtype, b: np.dtype, rtol, atol) -> tuple[float, float]:
    if (rtol is None) != (atol is None):
        missing = "atol" if atol is None else "rtol"
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {missing}.")
    if rtol is not None:
        return rtol, atol
    pairs = [_PRECISIONS.get(np.dtype(d), (0.0, 0.0)) for d in (a, b)]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _compare_tensors(actual: Tensor, expected: Tensor, rtol, atol, equal_nan: bool,
                     check_dtype: bool, msg) -> None:
    a, e = actual.detach().numpy(), expected.detach().numpy()
    if a.shape != e.shape:
        _fail(f"The values for attribute 'shape' do not match: {actual.shape} != "
              f"{expected.shape}.", msg)
    if check_dtype and a.dtype != e.dtype:
        _fail(f"The values for attribute 'dtype' do not match: {_name(a.dtype)} != "
              f"{_name(e.dtype)}.", msg)
    rtol, atol = _tolerances(a.dtype, e.dtype, rtol, atol)
    if a.dtype.kind == "b" or e.dtype.kind == "b":
        close = a == e
    else:
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        _fail(_mismatch(a, e, np.asarray(close), rtol, atol), msg)


def _relative(actual, expected) -> float:
    return abs(actual - expected) / abs(expected) if expected else float("inf")


def _compare_scalars(actual, expected, rtol, atol, equal_nan: bool, msg) -> None:
    kinds = {np.dtype(type(actual)).kind, np.dtype(type(expected)).kind}
    rtol, atol = (rtol, atol) if rtol is not None or atol is not None else \
        ((1e-7, 1e-7) if kinds & {"f", "c"} else (0.0, 0.0))
    if rtol is None or atol is None:
        _tolerances(np.dtype(np.float64), np.dtype(np.float64), rtol, atol)
    both_nan = equal_nan and actual != actual and expected != expected
    if not both_nan and not abs(actual - expected) <= atol + rtol * abs(expected):
        kind = "equal" if rtol == 0 and atol == 0 else "close"
        _fail(f"Scalars are not {kind}!\n\nExpected {expected} but got {actual}.\n"
              f"Absolute difference: {abs(actual - expected)} (up to {atol} allowed)\n"
              f"Relative difference: {_relative(actual, expected)} (up to {rtol} allowed)", msg)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close (the module
    docstring): tensors of the same shape (and dtype, with ``check_dtype``), numbers, or
    sequences / mappings of them compared item by item."""
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
    if isinstance(actual, Tensor) or isinstance(expected, Tensor):
        if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
            raise TypeError(f"No comparison pair was able to handle inputs of type "
                            f"{type(actual)} and {type(expected)}.")
        return _compare_tensors(actual, expected, **options)
    if isinstance(actual, (bool, int, float, complex, np.number)):
        return _compare_scalars(actual, expected, rtol, atol, equal_nan, msg)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                  f"{sorted(map(str, expected))}", msg)
        for key in expected:
            assert_close(actual[key], expected[key], **options)
        return None
    if isinstance(actual, Sequence) and isinstance(expected, Sequence) and \
            not isinstance(actual, str):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", msg)
        for a, e in zip(actual, expected):
            assert_close(a, e, **options)
        return None
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                    f"{type(expected)}.")


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None,
                    atol: float | None = None, equal_nan: bool = True, msg: str = "") -> None:
    """torch's deprecated form: ``assert_close`` without the dtype check."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)


__all__ = ["assert_close", "assert_allclose"]
