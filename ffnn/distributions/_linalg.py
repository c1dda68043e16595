"""The two factorisations ``MultivariateNormal`` needs: the Cholesky factor and the
lower-triangular solve (their ops, with hand-written backwards, live in
``ffnn.ops.decompositions``, under ``ffnn.linalg`` too).

Both take matrices in the last two dimensions and a batch in the others."""

from __future__ import annotations

import numpy as np

from ffnn.ops.decompositions import Cholesky, SolveTril
from ffnn.tensor import Tensor

__all__ = ["Cholesky", "SolveTril", "cholesky", "diagonal", "solve_tril"]


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
