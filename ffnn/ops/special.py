"""Special functions the activations need: ``erf`` and ``erfc`` in pure NumPy (the reference),
and the scalar functions that compiled kernels (``ffnn.kernels``) use for float32 arrays.

NumPy has no vectorised erf. For |x| < 2.5 we sum the series with positive terms
``erf(x) = 2/√π · e^{-x²} · Σₙ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))`` (50 terms, no cancellation);
for |x| ≥ 2.5 the continued fraction ``erfc(x) = e^{-x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))``
(depth 40). Both agree with libm's erf/erfc to ~1e-13 relative. When SciPy is installed its
compiled ``erf``/``erfc`` are used instead (same values, faster): an optional accelerator.

The scalar functions ``exp_small``, ``erfc_fast`` and ``tanh_fast`` take and return one
float64. They are written with multiply-adds and bit casts only (no call into libm, no
branch), so that a compiled loop using them runs on SIMD lanes; they are accurate to
float32's precision or better, and compiled kernels use them for float32 arrays only (libm's
functions for float64).
"""

from __future__ import annotations

import importlib.util
import math
import struct

import numpy as np

from ffnn.backend import xp

_SQRT_PI = float(np.sqrt(np.pi))
_SERIES_TERMS = 50
_FRACTION_DEPTH = 40
_SWITCH = 2.5

use_scipy = importlib.util.find_spec("scipy") is not None  # imported on first use


def _scipy_special():
    import scipy.special

    return scipy.special


def _erf_series(x):
    """erf(x) for |x| < 2.5 by the positive series above."""
    two_x2 = 2.0 * x * x
    term = x.copy()
    total = x.copy()
    for n in range(1, _SERIES_TERMS):
        term *= two_x2
        term /= 2 * n + 1
        total += term
    return (2.0 / _SQRT_PI) * np.exp(-x * x) * total


def _erfc_fraction(x):
    """erfc(x) for x ≥ 2.5 by the continued fraction above."""
    f = x.copy()
    for k in range(_FRACTION_DEPTH, 0, -1):
        f = x + (0.5 * k) / f
    return np.exp(-x * x) / (_SQRT_PI * f)


def erfc(x):
    """Complementary error function ``1 - erf(x)``, accurate in the tails (float64 math)."""
    m = xp(x)
    if use_scipy and m is np:
        return _scipy_special().erfc(x)
    x64 = m.asarray(x, dtype=np.float64)
    out = m.empty_like(x64)
    small = m.abs(x64) < _SWITCH
    out[small] = 1.0 - _erf_series(x64[small])
    big_pos = x64 >= _SWITCH
    out[big_pos] = _erfc_fraction(x64[big_pos])
    big_neg = x64 <= -_SWITCH
    out[big_neg] = 2.0 - _erfc_fraction(-x64[big_neg])
    return out.astype(m.asarray(x).dtype, copy=False) if m.asarray(x).dtype.kind == "f" else out


def erf(x):
    """Error function ``2/√π ∫₀ˣ e^{-t²} dt`` (float64 math)."""
    m = xp(x)
    if use_scipy and m is np:
        return _scipy_special().erf(x)
    x64 = m.asarray(x, dtype=np.float64)
    out = m.empty_like(x64)
    small = m.abs(x64) < _SWITCH
    out[small] = _erf_series(x64[small])
    big = ~small
    out[big] = m.sign(x64[big]) * (1.0 - _erfc_fraction(m.abs(x64[big])))
    return out.astype(m.asarray(x).dtype, copy=False) if m.asarray(x).dtype.kind == "f" else out


_LOG2_E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01  # ln 2 in two parts (fdlibm's): k·_LN2_HIGH is exact
_LN2_LOW = 1.90821492927058770002e-10
_ROUNDER = 6755399441055744.0
"""1.5·2⁵²: ``v + _ROUNDER`` rounds v to an integer k, held in the low bits of the sum."""
_ROUNDER_BITS = 0x4338000000000000  # its bit pattern


def double_bits(x: float) -> int:
    """The IEEE-754 bit pattern of the float64 ``x`` as a signed 64-bit integer (compiled
    kernels: one register move, ``ffnn.kernels.bitcast``)."""
    return struct.unpack("<q", struct.pack("<d", x))[0]


def double_from_bits(bits: int) -> float:
    """The float64 whose IEEE-754 bit pattern is the signed 64-bit integer ``bits``."""
    return struct.unpack("<d", struct.pack("<q", bits))[0]


def exp_small(u: float) -> float:
    """e^u for u <= 1, to ~3e-16 relative (u > -200; below, e^-200).

    e^u = 2ᵏ·e^r with k = round(u/ln 2) and r = u - k ln 2, |r| <= ln2/2: e^r by its Taylor
    polynomial of degree 12 (remainder < 2e-16), 2ᵏ built from its exponent bits. No
    branch and no call, so a compiled loop runs it on SIMD lanes.
    """
    u = max(u, -200.0)
    shifted = u * _LOG2_E + _ROUNDER
    k = shifted - _ROUNDER
    r = (u - k * _LN2_HIGH) - k * _LN2_LOW
    p = 1.0 / 479001600.0
    p = 1.0 / 39916800.0 + r * p
    p = 1.0 / 3628800.0 + r * p
    p = 1.0 / 362880.0 + r * p
    p = 1.0 / 40320.0 + r * p
    p = 1.0 / 5040.0 + r * p
    p = 1.0 / 720.0 + r * p
    p = 1.0 / 120.0 + r * p
    p = 1.0 / 24.0 + r * p
    p = 1.0 / 6.0 + r * p
    p = 0.5 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    return p * double_from_bits((double_bits(shifted) - _ROUNDER_BITS + 1023) << 52)


def erfc_fast(z: float) -> float:
    """erfc(z) to 1.2e-7 relative for z < 13 (erfc(13) ~ 1e-75); beyond, a value below 1e-80
    (float32's 0): t·exp(-z² + P(t)), t = 1/(1 + |z|/2), with the Chebyshev coefficients of
    Numerical Recipes' ``erfcc`` and ``exp_small``."""
    a = abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    p = -0.82215223 + t * 0.17087277
    p = 1.48851587 + t * p
    p = -1.13520398 + t * p
    p = 0.27886807 + t * p
    p = -0.18628806 + t * p
    p = 0.09678418 + t * p
    p = 0.37409196 + t * p
    p = 1.00002368 + t * p
    r = t * exp_small(-a * a - 1.26551223 + t * p)
    return r if z >= 0 else 2.0 - r


def tanh_fast(x: float) -> float:
    """tanh x to ~1e-10 relative: (1 - e)/(1 + e) with e = e^{-2|x|}, and x - x³/3 where
    |x| < 4e-4 (there 1 - e would cancel; the series' error is below 3e-15)."""
    a = abs(x)
    e = exp_small(-2.0 * a)
    t = (1.0 - e) / (1.0 + e) if a >= 4e-4 else a - a * a * a / 3.0
    return math.copysign(t, x)
