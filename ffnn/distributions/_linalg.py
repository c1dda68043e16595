"""The two factorisations ``MultivariateNormal`` needs, as ops with hand-written backwards
(ffnn.linalg has neither): the Cholesky factor and the lower-triangular solve.

Both take matrices in the last two dimensions and a batch in the others (the same batch
for both operands of a solve: broadcast them first)."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.tensor import Tensor


def _mT(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -2, -1)


class Cholesky(Op):
    """A = L·Lᵀ, L lower-triangular with a positive diagonal (A's lower triangle is read).

    dL/dA = L⁻ᵀ · Φ(Lᵀ · dL/dL) · L⁻¹, with Φ(P) = ½(tril(P) + tril(P, -1)ᵀ) — the
    symmetric gradient torch gives (Murray, 2016)."""

    def forward(self, a):
        try:
            self.factor = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise RuntimeError("linalg.cholesky: The factorization could not be completed "
                               "because the input is not positive-definite.") from None
        return self.factor

    def backward(self, grad):
        factor = self.factor
        p = np.tril(_mT(factor) @ grad)
        phi = 0.5 * (p + _mT(np.tril(p, -1)))
        left = np.linalg.solve(_mT(factor), phi)  # L⁻ᵀ Φ
        return (_mT(np.linalg.solve(_mT(factor), _mT(left))),)  # (L⁻ᵀ Φ) L⁻¹


class SolveTril(Op):
    """X = L⁻¹·B for a lower-triangular L (its upper triangle is ignored).

    dL/dB = L⁻ᵀ · dL/dX,  dL/dL = -tril(dL/dB · Xᵀ)."""

    def forward(self, lower, b):
        self.lower = np.tril(lower)
        self.x = np.linalg.solve(self.lower, b)
        return self.x

    def backward(self, grad):
        grad_b = np.linalg.solve(_mT(self.lower), grad)
        grad_lower = -np.tril(grad_b @ _mT(self.x)) if self.needs_input_grad[0] else None
        return grad_lower, grad_b if self.needs_input_grad[1] else None


def cholesky(a: Tensor) -> Tensor:
    """The lower Cholesky factor of each symmetric positive-definite matrix of ``a``."""
    return Cholesky.apply(a)


def solve_tril(lower: Tensor, b: Tensor) -> Tensor:
    """L⁻¹·B for lower-triangular ``lower`` (..., n, n) and ``b`` (..., n, k), one batch."""
    return SolveTril.apply(lower, b)


def diagonal(a: Tensor) -> Tensor:
    """The diagonals of the matrices of ``a`` (..., n, n) → (..., n), differentiable."""
    steps = np.arange(a.shape[-1])
    return a[..., steps, steps]
