"""The special functions NumPy lacks, on arrays (float64 inside, the input's dtype out):
ln|Γ|, the polygamma functions ψ⁽ⁿ⁾ (digamma, trigamma, …) and erf⁻¹. SciPy is not a
dependency, so they are here: ln|Γ| is libm's ``lgamma`` per element; ψ⁽ⁿ⁾ climbs by
ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x+1) - (-1)ⁿ n!/xⁿ⁺¹ to x ≥ 10 + n and sums the asymptotic series there, with
the reflection formula for x < 0; erf⁻¹ starts from Giles's approximation and takes two
Halley steps on erf (on erfc where |x| ≥ ½, where 1 - |x| is exact). In float64 all three
agree with mpmath to ~1e-15 relative (ψ⁽ⁿ⁾ to ~1e-13 close to its poles; erf⁻¹ to ~1e-13
where ``special`` runs without SciPy). Their ops are in ``elementwise_more``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import polynomial

from ffnn.autograd import Op
from ffnn.backend import to_numpy, xp
from ffnn.ops import special
from ffnn.ops.elementwise import Where, constant_like

HALF_SQRT_PI = math.sqrt(math.pi) / 2
BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
             43867 / 798, -174611 / 330)
"""B₂, B₄, …, B₂₀: the coefficients of ψ⁽ⁿ⁾'s asymptotic series."""
GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
              -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)
"""Giles (2010), erf⁻¹ x ≈ x·p(w), w = -ln(1 - x²): p a polynomial in w - 2.5 for w < 5, in
√w - 3 up to w = 16 (~1e-7 relative): the start of the Halley steps."""


def _float64(x):
    return xp(x).asarray(x, dtype=np.float64)


def _like(values, x):
    """``values`` (float64) in ``x``'s floating dtype."""
    return values.astype(x.dtype, copy=False) if x.dtype.kind == "f" else values


def _lgamma_scalar(v: float) -> float:
    if v <= 0 and v.is_integer():  # the poles 0, -1, -2, …: +inf, as torch
        return math.inf
    try:
        return math.lgamma(v)
    except OverflowError:
        return math.inf


_LGAMMA = np.frompyfunc(_lgamma_scalar, 1, 1)


def lgamma(x):
    """ln|Γ(x)|, libm's per element; +inf at the poles 0, -1, -2, …"""
    values = np.asarray(_LGAMMA(to_numpy(_float64(x))), dtype=np.float64)  # 0-d: a float
    return _like(xp(x).asarray(values), x)


def _asymptotic_polygamma(n: int, x):
    """ψ⁽ⁿ⁾(x) for large x: ψ(x) ≈ ln x - 1/(2x) - Σₖ B₂ₖ/(2k x²ᵏ), and for n ≥ 1
    ψ⁽ⁿ⁾(x) ≈ (-1)ⁿ⁺¹ x⁻ⁿ [(n-1)! + n!/(2x) + Σₖ B₂ₖ (2k+n-1)!/(2k)! x⁻²ᵏ]."""
    t = 1 / x
    t2, total = t * t, 0.0
    for k in range(len(BERNOULLI), 0, -1):  # Horner in 1/x²
        coefficient = BERNOULLI[k - 1] / (2 * k) if n == 0 else \
            BERNOULLI[k - 1] * math.perm(2 * k + n - 1, n - 1)
        total = (total + coefficient) * t2
    if n == 0:
        return xp(x).log(x) - 0.5 * t - total
    lead = math.factorial(n - 1) + math.factorial(n) / 2 * t + total
    return (-1) ** (n + 1) * lead * t**n


def _cot_derivative(n: int) -> np.ndarray:
    """Coefficients of Pₙ with dⁿ/dxⁿ cot(πx) = πⁿ Pₙ(cot πx): P₀(c) = c,
    Pₙ₊₁ = -(1 + c²) Pₙ'."""
    p = np.array([0.0, 1.0])
    for _ in range(n):
        p = -polynomial.polymul([1.0, 0.0, 1.0], polynomial.polyder(p))
    return p


def polygamma(n: int, x):
    """ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ ln Γ(x) (n = 0: digamma). x < 0 by the reflection
    ψ⁽ⁿ⁾(x) = (-1)ⁿ ψ⁽ⁿ⁾(1 - x) - πⁿ⁺¹ Pₙ(cot πx); at the poles 0, -1, -2, …: torch's values
    (digamma: ∓inf at ±0, nan below; n ≥ 1: (-1)ⁿ⁺¹·inf)."""
    m, x64 = xp(x), _float64(x)
    with np.errstate(all="ignore"):
        reflect = x64 < 0
        z = m.where(reflect, 1 - x64, x64)
        shift = m.ceil(m.clip(10 + n - z, 0, None))
        steps = shift[m.isfinite(shift)]
        total = m.zeros_like(z)
        for k in range(int(steps.max()) if steps.size else 0):  # ψ⁽ⁿ⁾(z) from ψ⁽ⁿ⁾(z + s)
            total += m.where(k < shift, (z + k) ** -(n + 1), 0.0)
        out = _asymptotic_polygamma(n, z + m.nan_to_num(shift)) \
            - (-1) ** n * math.factorial(n) * total
        if reflect.any():
            fraction = x64 - m.trunc(x64)  # cot has period 1; tan(π·fraction) is exact-er
            cot = 1 / m.tan(math.pi * fraction)
            mirror = polynomial.polyval(cot, _cot_derivative(n)) * math.pi ** (n + 1)
            out = m.where(reflect, (-1) ** n * out - mirror, out)
        pole = (x64 <= 0) & (x64 == m.floor(x64))
        at_pole = m.where(x64 == 0, m.copysign(m.inf, -x64), m.nan) if n == 0 else \
            (-1) ** (n + 1) * m.inf
        return _like(m.where(pole, at_pole, out), x)


def _horner(coefficients, w):
    p = coefficients[0]
    for c in coefficients[1:]:
        p = c + p * w
    return p


def _far_tail(q):
    """y with erfc y = q for tiny q (~1e-5 relative): a fixed point of
    y² = -ln q - ln(y√π) + ln(1 - 1/(2y²)), erfc's asymptotic form; Giles's fit ends at q ~ 1e-7."""
    m = xp(q)
    big = -m.log(q)
    y = m.sqrt(big)
    for _ in range(4):
        y = m.sqrt(big - m.log(y * (2 * HALF_SQRT_PI)) + m.log1p(-0.5 / (y * y)))
    return y


def erfinv(x):
    """erf⁻¹(x): ±inf at ±1, nan for |x| > 1; Giles's start (``_far_tail`` beyond its fit),
    then two Halley steps on f(y) = erf y - a = (1 - a) - erfc y (a = |x|), f' = 2/√π e^{-y²},
    f''/f' = -2y."""
    m, x64 = xp(x), _float64(x)
    a = m.abs(x64)
    with np.errstate(all="ignore"):
        w = -m.log((1 - a) * (1 + a))
        y = m.where(w < 5, a * _horner(GILES_CENTRAL, w - 2.5),
                    m.where(w < 16, a * _horner(GILES_TAIL, m.sqrt(w) - 3), _far_tail(1 - a)))
        tail = a >= 0.5
        for _ in range(2):
            residual = m.where(tail, (1 - a) - special.erfc(y), special.erf(y) - a)
            step = residual / (m.exp(-y * y) / HALF_SQRT_PI)
            y = m.where(residual == 0, y, y - step / (1 + y * step))
        y = m.where(a == 1, m.inf, m.where(a > 1, m.nan, y))
    return _like(m.copysign(y, x64), x)


def ndtri(p):
    """Φ⁻¹(p), the standard normal quantile: ±inf at 0 and 1, nan outside [0, 1]. Start
    √2·erf⁻¹(2p − 1) (or, in the far tails, x² ≈ s − log s − log 2π with s = −2 log p), then
    three Halley steps on f(x) = Φ(x) − p, Φ written with erfc on the side of the tail, where
    f' = φ(x) and f''/f' = −x."""
    m, p64 = xp(p), _float64(p)
    with np.errstate(all="ignore"):
        tail = m.minimum(p64, 1 - p64)
        s = -2 * m.log(tail)
        far = m.sqrt(s - m.log(s) - math.log(2 * math.pi))
        x = m.where(tail < 1e-10, m.where(p64 < 0.5, -far, far),
                    math.sqrt(2) * erfinv(2 * p64 - 1))
        for _ in range(3):
            lower = 0.5 * special.erfc(-x / math.sqrt(2)) - p64
            upper = (1 - p64) - 0.5 * special.erfc(x / math.sqrt(2))
            residual = m.where(p64 < 0.5, lower, upper)
            step = residual / (m.exp(-x * x / 2) / math.sqrt(2 * math.pi))
            x = m.where(m.isfinite(step), x - step / (1 + x * step / 2), x)
        x = m.where(p64 == 0, -m.inf, m.where(p64 == 1, m.inf, x))
        x = m.where((p64 < 0) | (p64 > 1), m.nan, x)
    return _like(x, p)


class Logit(Op):
    """y = log(z / (1 - z)), z = clamp(x, ε, 1 - ε) when ``eps`` ε is given;
    dL/dx = dL/dy / (x (1 - x)) inside [0, 1] (without ε: NaN outside) or [ε, 1 - ε] (with ε:
    0 outside), torch's ``logit_backward``."""

    def forward(self, x, eps=None):
        m = xp(x)
        self.eps = None if eps is None or eps < 0 else eps  # torch takes a negative ε as none
        z = x if self.eps is None else m.clip(x, self.eps, 1 - self.eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = m.log(z / (1 - z))
        self.x = x
        return out.astype(x.dtype, copy=False)

    def _outside(self, x):
        lo, hi = (0, 1) if self.eps is None else (self.eps, 1 - self.eps)
        return (x < lo) | (x > hi), (np.nan if self.eps is None else 0.0)

    def backward(self, grad):
        x = self.x
        outside, fill = self._outside(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            g = grad / (x * (1 - x))
        return (xp(g).where(outside, fill, g).astype(x.dtype, copy=False),)

    def backward_graph(self, grad, x):
        outside, fill = self._outside(self.x)
        g = grad / (x * (1 - x))
        return (Where.apply(constant_like(x, np.full(x.shape, fill)), g, condition=outside),)
