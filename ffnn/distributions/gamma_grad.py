"""Reparameterised Gamma draws: ``standard_gamma(α)`` samples Gamma(α, 1) as torch's
``_standard_gamma`` (the same numbers for the same seed) and carries torch's implicit
gradient dx/dα = -(∂F(x; α)/∂α) / p(x; α) (F the CDF, p the density), evaluated as torch's
``standard_gamma_grad_one`` does: a Taylor series for x < 0.8, Rice's saddle-point expansion
for α > 8, else a bivariate rational approximation (``ATen/native/Distributions.h``).
"""

from __future__ import annotations

import numpy as np

from ffnn import torch_serial
from ffnn.custom_function import Function
from ffnn.tensor import Tensor

__all__ = ["standard_gamma", "standard_gamma_grad"]

_F32 = {name: float(np.float32(value)) for name, value in
        (("small", 0.8), ("low", 0.9), ("high", 1.1))}
_PSI_10 = 2.25175258906672110764
_DIGAMMA_TAIL = (8.33333333333333333333E-2, -2.10927960927960927961E-2,
                 7.57575757575757575758E-3, -4.16666666666666666667E-3,
                 3.96825396825396825397E-3, -8.33333333333333333333E-3,
                 8.33333333333333333333E-2)
_RATIONAL = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343,
     1, 0.32668115, 0.10406089, 0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758,
     0.16639465, 0.020070113, -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
     0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07]])


def _digamma(x: np.ndarray) -> np.ndarray:
    """ψ(x) for x > 0 as torch's ``digamma_one``: recur up to x ≥ 10, then
    log x - 1/(2x) - z·P(z), z = 1/x²."""
    x = np.array(x, dtype=np.float64)
    result = np.zeros_like(x)
    while np.any(x < 10):
        low = x < 10
        result = np.where(low, result - 1 / np.where(low, x, 1), result)
        x = np.where(low, x + 1, x)
    z = 1.0 / (x * x)
    poly = np.zeros_like(x)
    for coefficient in _DIGAMMA_TAIL:
        poly = poly * z + coefficient
    tail = np.where(x < 1e17, z * poly, 0.0)
    with np.errstate(divide="ignore"):
        value = result + np.log(x) - 0.5 / x - tail
    return np.where(x == 10, result + _PSI_10, value)


def _taylor(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Small x: F = x^α Σ (-x)^k/(k!(α+k)), ∂F/∂α by the series of 1/(α+k)²."""
    numer, denom = np.ones_like(x), alpha.copy()
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = x**alpha
    pdf = x ** (alpha - 1) * np.exp(-x)
    cdf_alpha = (np.log(x) - _digamma(alpha)) * pow_x_alpha * series1 - pow_x_alpha * series2
    result = -cdf_alpha / pdf
    return np.where(np.isnan(result), 0.0, result)


def _saddle_point(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Large α: Rice's saddle-point expansion (a polynomial near x = α)."""
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = (1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha
               + alpha * (107 + 3600 * x))
    near = numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
    denom = np.sqrt(8 * alpha)
    term2 = denom / (alpha - x)
    term3 = (x - alpha - alpha * np.log(x / alpha)) ** -1.5
    term23 = np.where(x < alpha, term2 - term3, term2 + term3)
    term1 = np.log(x / alpha) * term23 - np.sqrt(2 / alpha) * (alpha + x) / (alpha - x) ** 2
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    far = -stirling * (x * term1) / denom
    return np.where((_F32["low"] * alpha <= x) & (x <= _F32["high"] * alpha), near, far)


def _rational(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Otherwise: exp(P(u, v)/Q(u, v)), u = log(x/α), v = log α."""
    u, v = np.log(x / alpha), np.log(alpha)
    c = [_RATIONAL[0, i] + u * (_RATIONAL[1, i] + u * _RATIONAL[2, i]) for i in range(8)]
    p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
    q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
    return np.exp(p / q)


def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """torch's ``_standard_gamma_grad(α, x)``: dx/dα of a Gamma(α, 1) draw x, in float64,
    returned in x's dtype."""
    a, v = (np.asarray(t, dtype=np.float64) for t in (alpha, x))
    a, v = np.broadcast_arrays(a, v)
    with np.errstate(all="ignore"):
        out = np.where(a > 8.0, _saddle_point(a, v), _rational(a, v))
        out = np.where(v < _F32["small"], _taylor(a, v), out)
    return out.astype(np.asarray(x).dtype)


class _StandardGamma(Function):
    """x ~ Gamma(α, 1) (torch's numbers); dL/dα = dL/dx · ``standard_gamma_grad(α, x)``."""

    @staticmethod
    def forward(ctx, concentration: Tensor) -> Tensor:
        alpha = np.ascontiguousarray(concentration.numpy())
        draw = torch_serial.standard_gamma(None, alpha)
        ctx.alpha, ctx.draw = alpha, draw
        return Tensor._make(draw, False, None)

    @staticmethod
    def backward(ctx, grad_output: Tensor) -> Tensor:
        return grad_output * Tensor._make(standard_gamma_grad(ctx.alpha, ctx.draw), False, None)


def standard_gamma(concentration: Tensor) -> Tensor:
    """Gamma(α, 1) draws of α's shape (torch's numbers); the gradient to α is
    :func:`standard_gamma_grad` (torch's ``_standard_gamma`` backward)."""
    return _StandardGamma.apply(concentration)
