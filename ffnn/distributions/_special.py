"""The inverse error function as an op (``Normal.icdf`` needs it; ffnn has ``erf`` only).

Forward: SciPy's ``erfinv`` when SciPy is there (as ``ffnn.ops.special`` uses its ``erf``),
else M. Giles' polynomial start polished by eight Halley steps on ``f(y) = erf(y) - |x|``
(written ``(1 - |x|) - erfc(y)`` for |x| ≥ ½, to keep the tails accurate), where
f'' = -2y·f' makes each step ``y -= r / (1 + y·r)`` with r = f/f'. Backward:
d erfinv(x)/dx = √π/2 · exp(erfinv(x)²).
"""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.ops import special
from ffnn.tensor import Tensor

_SQRT_PI = float(np.sqrt(np.pi))
_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coefficients: tuple, w: np.ndarray) -> np.ndarray:
    total = np.full_like(w, coefficients[0])
    for c in coefficients[1:]:
        total = total * w + c
    return total


def _erfinv_numpy(x: np.ndarray) -> np.ndarray:
    """erfinv on [-1, 1] in float64 (NaN outside, ±inf at ±1)."""
    a = np.abs(x)
    inside = a < 1
    safe = np.where(inside, a, 0.0)
    w = -np.log((1.0 - safe) * (1.0 + safe))
    start = np.where(w < 5.0, _horner(_CENTRAL, w - 2.5),
                     _horner(_TAIL, np.sqrt(np.maximum(w, 5.0)) - 3.0))
    y = start * safe
    for _ in range(8):
        residual = np.where(safe < 0.5, special.erf(y) - safe, (1.0 - safe) - special.erfc(y))
        ratio = residual / (2.0 / _SQRT_PI * np.exp(-y * y))
        y = y - ratio / (1.0 + y * ratio)
    y = np.where(inside, y, np.where(a == 1, np.inf, np.nan))
    return np.copysign(y, x)


def erfinv_array(x: np.ndarray) -> np.ndarray:
    """erfinv of an array, in its dtype."""
    if special.use_scipy:
        return special._scipy_special().erfinv(x)
    return _erfinv_numpy(np.asarray(x, dtype=np.float64)).astype(x.dtype, copy=False)


class Erfinv(Op):
    """y = erfinv(x);  dL/dx = dL/dy · √π/2 · exp(y²)."""

    def forward(self, x):
        self.y = erfinv_array(x)
        return self.y

    def backward(self, grad):
        return (grad * (0.5 * _SQRT_PI) * np.exp(self.y * self.y),)


def erfinv(x: Tensor) -> Tensor:
    """The inverse of erf on (-1, 1), differentiable."""
    return Erfinv.apply(x)
