"""The regularized incomplete gamma functions P(a, x) = γ(a, x)/Γ(a) (``igamma``,
``special.gammainc``) and Q(a, x) = 1 - P (``igammac``, ``special.gammaincc``), in float64:
the series Σₙ xⁿ/(a(a+1)…(a+n)) · xᵃe⁻ˣ/Γ(a) where x < a + 1, else Lentz's continued
fraction for Q. ∂P/∂x = xᵃ⁻¹e⁻ˣ/Γ(a); the derivative in a is not provided (torch's
raises too)."""

from __future__ import annotations

import numpy as np

from ffnn.ops.elementwise_more import Binary
from ffnn.ops.special_more import lgamma

_TINY = 1e-300
_EPS = 1e-16
_MAX_TERMS = 100_000


def _prefactor(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """xᵃe⁻ˣ/Γ(a), by logs."""
    return np.exp(a * np.log(x) - x - lgamma(a))


def _series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) = xᵃe⁻ˣ/Γ(a) · Σₙ xⁿ/(a(a+1)…(a+n)) (for x < a + 1)."""
    term = 1.0 / a
    total, r = term.copy(), a.copy()
    for _ in range(_MAX_TERMS):
        r = r + 1
        term = term * x / r
        total = total + term
        if np.all(np.abs(term) <= np.abs(total) * _EPS):
            break
    return total * _prefactor(a, x)


def _continued_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q(a, x) = xᵃe⁻ˣ/Γ(a) · 1/(x + 1 - a - 1·(1 - a)/(x + 3 - a - …)) (Lentz, x ≥ a + 1)."""
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / _TINY)
    d = 1.0 / np.where(b == 0, _TINY, b)
    h = d.copy()
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) <= _EPS):
            break
    return h * _prefactor(a, x)


def _edges(a: np.ndarray, x: np.ndarray, lower: bool) -> np.ndarray:
    """torch's values at the edges of the domain (NaN elsewhere, to be filled)."""
    one, zero = (1.0, 0.0) if lower else (0.0, 1.0)
    out = np.full(np.broadcast_shapes(a.shape, x.shape), np.nan)
    out = np.where((a == 0) & (x > 0), one, out)
    out = np.where((x == 0) & (a > 0), zero, out)
    out = np.where(np.isinf(a) & np.isfinite(x) & (x > 0), zero, out)
    return np.where(np.isinf(x) & np.isfinite(a) & (a > 0), one, out)


def regularized_gamma(a, x, lower: bool = True) -> np.ndarray:
    """P(a, x) (``lower``) or Q(a, x), element-wise, float64; NaN for a < 0 or x < 0."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = _edges(a, x, lower)
    inside = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
    if not inside.any():
        return out
    ai, xi = a[inside], x[inside]
    use_series = xi < ai + 1
    value = np.empty_like(ai)
    with np.errstate(all="ignore"):
        if use_series.any():
            p = _series(ai[use_series], xi[use_series])
            value[use_series] = p if lower else 1.0 - p
        if (~use_series).any():
            q = _continued_fraction(ai[~use_series], xi[~use_series])
            value[~use_series] = 1.0 - q if lower else q
    out[inside] = value
    return out


class IncompleteGamma(Binary):
    """y = P(a, x) (``lower``) or Q(a, x);  ∂y/∂x = ±xᵃ⁻¹e⁻ˣ/Γ(a); ∂y/∂a raises."""

    def function(self, a, x, lower=True):
        self.lower = lower
        dtype = np.result_type(a, x)
        return regularized_gamma(a, x, lower).astype(dtype, copy=False)

    def slopes(self, a, x, y):
        if self.needs_input_grad[0]:
            raise NotImplementedError("derivative for aten::igamma is not implemented "
                                      "(the gradient with respect to a)")
        density = np.exp((a - 1) * np.log(x) - x - lgamma(a))
        return None, (density if self.lower else -density).astype(y.dtype, copy=False)

    def slopes_graph(self, a, x):
        if self.needs_input_grad[0]:
            raise NotImplementedError("derivative for aten::igamma is not implemented "
                                      "(the gradient with respect to a)")
        density = ((a - 1) * x.log() - x - a.lgamma()).exp()
        return None, density if self.options["lower"] else -density
