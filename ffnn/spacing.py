"""The points of ``linspace`` and ``logspace`` as torch's CPU kernel computes them, to the bit.

torch counts the first half from ``start`` and the second from ``end``:
``step = (end - start) / (steps - 1)``; point i is ``start + step·i`` for i < steps // 2, else
``end - step·(steps - 1 - i)``, each a fused multiply-add (one rounding) in the output's
floating dtype (float64 for integer outputs, then truncated). NumPy has no fused
multiply-add, so it is built from error-free transformations (Dekker's product, Knuth's
sum) and Boldo and Melquiond's rounding to odd.
"""

from __future__ import annotations

import math

import numpy as np


def _two_sum(a, b):
    """(s, e): s = fl(a + b), a + b = s + e exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    """(hi, lo) = a, each half of the significand (Veltkamp)."""
    bits = np.finfo(a.dtype).nmant + 1
    c = a * a.dtype.type(2 ** ((bits + 1) // 2) + 1)
    hi = c - (c - a)
    return hi, a - hi


def _two_product(a, b):
    """(p, e): p = fl(a·b), a·b = p + e exactly (Dekker)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _round_to_odd(value, error):
    """value + error (an exact pair) rounded to odd: value where exact, else whichever of
    value and its neighbour toward error has an odd last bit."""
    neighbour = np.nextafter(value, np.where(error > 0, np.inf, -np.inf).astype(value.dtype))
    bits = np.dtype(f"i{value.dtype.itemsize}")
    odd = (value.view(bits) & 1).astype(bool)
    return np.where((error == 0) | odd, value, neighbour)


def fused_multiply_add(a, b, c):
    """a·b + c rounded once (arrays of one floating dtype; Boldo and Melquiond)."""
    with np.errstate(all="ignore"):
        high, low = _two_product(a, b)
        total, rest = _two_sum(c, high)
        tail, tail_error = _two_sum(rest, low)
        return total + _round_to_odd(tail, tail_error)


def points(start, end, steps: int, step_type: np.dtype, fused: bool) -> np.ndarray:
    """torch's ``steps`` evenly spaced points from start to end in ``step_type``: each
    ``base + factor·count`` rounded once where ``fused`` (linspace's kernel), else twice
    (logspace's)."""
    real = step_type.type
    with np.errstate(all="ignore"):  # ends beyond float16's range are ±inf
        first, last = real(start), real(end)
        step = real(real(last - first) / real(max(steps - 1, 1)))
    if steps <= 1:
        return np.full(steps, first, step_type)
    index = np.arange(steps)
    half = steps // 2
    counts = np.where(index < half, index, steps - 1 - index).astype(step_type)
    factors = np.where(index < half, step, -step).astype(step_type)
    bases = np.where(index < half, first, last).astype(step_type)
    if fused and step_type.itemsize >= 4:
        return fused_multiply_add(factors, counts, bases)
    with np.errstate(all="ignore"):  # float16: each operation rounds (c10::Half)
        return (bases + factors * counts).astype(step_type)


def _step_type(dtype: np.dtype) -> np.dtype:
    """The type torch's kernels count in: float64 for integer outputs, else the dtype."""
    return np.dtype(np.float64) if dtype.kind in "iu" else dtype


def _unsupported(name: str, dtype: np.dtype) -> None:
    if dtype.kind == "b":
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")


def linspace_values(start, end, steps: int, dtype: np.dtype) -> np.ndarray:
    """``torch.linspace``'s values in ``dtype``: the ends converted to it first, an integer
    dtype's points truncated toward 0."""
    _unsupported("linspace", dtype)
    with np.errstate(all="ignore"):
        start, end = dtype.type(start), dtype.type(end)
    values = points(start, end, steps, _step_type(dtype), fused=True)
    return values if values.dtype == dtype else np.trunc(values).astype(dtype)


def logspace_values(start, end, steps: int, base: float, dtype: np.dtype) -> np.ndarray:
    """``torch.logspace``'s values: base ** e, e the points between the ends converted to
    ``dtype``, counted in float64, each power the C library's ``pow`` (NumPy's vectorised one
    differs in the last bit): float64 and integer outputs are torch's to the bit, float32
    within a few ulps (torch counts float32 exponents in float32, with its own power)."""
    _unsupported("logspace", dtype)
    with np.errstate(all="ignore"):  # one point: base ** start as given, as torch's fill
        start, end = (start, end) if steps == 1 else (dtype.type(start), dtype.type(end))
    exponents = points(start, end, steps, np.dtype(np.float64) if dtype.itemsize >= 4 else
                       dtype, fused=False)
    with np.errstate(all="ignore"):
        if dtype.itemsize < 4:
            values = np.power(dtype.type(base), exponents)
        else:
            values = np.array([_pow(base, float(e)) for e in exponents], np.float64)
        return values.astype(dtype) if dtype.kind == "f" else np.trunc(values).astype(dtype)


def _pow(base: float, exponent: float) -> float:
    """C's pow(base, exponent); inf where it overflows (math.pow raises there)."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf
    except ValueError:  # a negative base to a fractional power
        return math.nan
