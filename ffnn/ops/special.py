"""Special functions the activations need: ``erf`` and ``erfc`` in pure NumPy (the reference).

NumPy has no vectorised erf. For |x| < 2.5 we sum the series with positive terms
``erf(x) = 2/√π · e^{-x²} · Σₙ 2ⁿ x^{2n+1} / (1·3·…·(2n+1))`` (50 terms, no cancellation);
for |x| ≥ 2.5 the continued fraction ``erfc(x) = e^{-x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …))))``
(depth 40). Both agree with libm's erf/erfc to ~1e-13 relative. When SciPy is installed its
compiled ``erf``/``erfc`` are used instead (same values, faster): an optional accelerator.

The compiled kernels' scalar functions (exp, tanh, expm1, log1p, Φ on SIMD lanes) are in
``ffnn.ops.special_float32`` and ``ffnn.ops.special_float64``.
"""

from __future__ import annotations

import importlib.util

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

