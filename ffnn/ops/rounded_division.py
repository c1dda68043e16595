"""``RoundedDivision``: a / b rounded towards zero or down (``torch.div`` with
``rounding_mode='trunc'`` or ``'floor'``), a step function, so its gradient is zero; and
what such a division leaves: ``Remainder`` (torch.remainder, ``%``) and ``FMod``."""

from __future__ import annotations

import math

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.elementwise import constant_like
from ffnn.ops.elementwise_more import Binary


def divide_rounded(a, b, mode: str):
    """trunc(a / b) or ⌊a / b⌋ element-wise, a and b of one dtype. Integers divide exactly
    (a zero divisor is torch's RuntimeError); floats as torch: trunc of the quotient, and
    Python's floor division (by fmod, so ⌊1 / 0.1⌋ = 9), a / b for b = 0."""
    m = xp(a)
    if a.dtype.kind in "iu":
        if (b == 0).any():
            raise RuntimeError("ZeroDivisionError")
        floor = m.floor_divide(a, b)
        if mode == "floor":
            return floor
        inexact = (m.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        return m.where(inexact, floor + 1, floor).astype(floor.dtype, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return m.trunc(a / b) if mode == "trunc" else m.floor_divide(a, b)


class RoundedDivision(Op):
    """y = trunc(a / b) or ⌊a / b⌋ (broadcast);  dL/da = dL/db = 0, as torch's: the result
    stays in the graph, so a loss through it gets zeros rather than an error."""

    def forward(self, a, b, mode="trunc"):
        self.shapes = a.shape, b.shape
        return divide_rounded(a, b, mode)

    def backward(self, grad):
        m = xp(grad)
        return tuple(m.zeros(shape, grad.dtype) if needed else None
                     for shape, needed in zip(self.shapes, self.needs_input_grad))

    def backward_graph(self, grad, a, b):
        return tuple(constant_like(grad, np.zeros(shape)) if needed else None
                     for shape, needed in zip(self.shapes, self.needs_input_grad))


def integer_remainder(a, b, mode: str):
    """a mod b of integer arrays (one dtype): with b's sign (``'floor'``, torch.remainder)
    or a's (``'trunc'``, torch.fmod). A zero divisor is torch's RuntimeError; bools are
    torch's NotImplementedError."""
    if a.dtype.kind == "b":
        name = "remainder" if mode == "floor" else "fmod"
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'")
    if (b == 0).any():
        raise RuntimeError("ZeroDivisionError")
    m = xp(a)
    return m.remainder(a, b) if mode == "floor" else m.fmod(a, b)


def floor_divide(a, b):
    """⌊a / b⌋ of two arrays of one dtype, as torch's ``//``: integers exactly (a zero
    divisor is torch's RuntimeError), floats as Python (a / b for b = 0, no warning)."""
    if a.dtype.kind == "b":
        raise NotImplementedError("\"div_floor_cpu\" not implemented for 'Bool'")
    return divide_rounded(a, b, "floor")


def fmod(a, b):
    """C's fmod of two float arrays of one dtype (broadcast), exact, as torch's: a − b·q with
    q = trunc(a / b) computed where that is exact, and a's sign on a zero (-4 fmod 2 = -0).
    In a's dtype for a number b = ±2ᵏ ≥ 1 (every step exact); float16 and float32 in float64
    while |a / b| < 2²⁸ (q·b then has at most 52 bits); NumPy's ``fmod`` (~20x slower)
    otherwise: float64, infinities, NaN, large quotients. Always an array (0-d too)."""
    m = xp(a)
    scale = abs(float(b)) if b.ndim == 0 else 0.0
    if 1 <= scale < math.inf and math.frexp(scale)[0] == 0.5:
        wide = a
    elif a.dtype.itemsize <= 4 and a.size and b.size and m.abs(b).max() < math.inf and \
            m.abs(a).max() < 2.0**28 * m.abs(b).min():  # also False for a NaN
        wide = a.astype(np.float64)
    else:
        return m.asarray(m.fmod(a, b))
    y = m.asarray(wide / b)
    m.trunc(y, out=y)
    y *= b
    m.subtract(wide, y, out=y)
    m.copysign(y, wide, out=y)
    return y.astype(a.dtype, copy=False)


def _to_divisor_sign(y, b):
    """y + b where y = fmod(a, b) is nonzero and of the other sign than b (torch's remainder),
    as y − (0 − b·fix): a branch-free select (``where`` of a random mask is ~40x slower) that
    keeps y's zero sign (y − (+0) is y; y + (+0) would turn -0 into 0)."""
    m = xp(y)
    if b.ndim == 0:
        fix = (y < 0) if b > 0 else (y > 0)
    else:
        fix = (y != 0) & ((b < 0) != (y < 0))
    if m.isinf(b).any():  # b · 0 is NaN: select
        return m.where(fix, y + b, y).astype(y.dtype, copy=False)
    shift = b * fix
    m.subtract(0, shift, out=shift)
    return m.asarray(y - shift)


class Remainder(Binary):
    """y = a − b·⌊a / b⌋ with b's sign, as torch's: fmod(a, b), plus b where that is nonzero
    and of the other sign (so -1 % ∞ = ∞, 1 % ∞ = 1, -4 % 2 = -0);
    ∂y/∂a = 1,  ∂y/∂b = −⌊a / b⌋."""

    def function(self, a, b):
        return _to_divisor_sign(fmod(a, b), b)

    def slopes(self, a, b, y):
        return 1, -xp(a).floor_divide(a, b)

    def slopes_graph(self, a, b):
        with np.errstate(all="ignore"):
            return constant_like(a, 1), constant_like(b, -xp(a._data).floor_divide(a._data,
                                                                                  b._data))


class FMod(Binary):
    """y = a − b·trunc(a / b) with a's sign (C's fmod: -4 fmod 2 = -0, 1 fmod ∞ = 1);
    ∂y/∂a = 1,  ∂y/∂b = −trunc(a / b)."""

    def function(self, a, b):
        return fmod(a, b)

    def slopes(self, a, b, y):
        return 1, -xp(a).trunc(a / b)

    def slopes_graph(self, a, b):
        with np.errstate(all="ignore"):
            return constant_like(a, 1), constant_like(b, -xp(a._data).trunc(a._data / b._data))
