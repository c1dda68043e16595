"""Array routines under the linear-algebra ops (``decompositions``, ``spectral``): the
triangular solve (NumPy has none) and the index at which LU or Cholesky fails, which torch's
error messages and ``info`` outputs report (NumPy's errors do not say).

All take matrices in the last two dimensions and a batch in the others."""

from __future__ import annotations

import numpy as np

from ffnn.backend import xp

BLOCK = 64
"""Rows solved one by one inside a block; the blocks below are updated by one product."""


def mT(a):  # noqa: N802 - torch's name
    """The matrices of ``a`` transposed (a view)."""
    return xp(a).swapaxes(a, -2, -1)


def triangle(a, upper: bool, strict: bool = False):
    """The upper (or lower) triangle of each matrix of ``a``; without the diagonal when
    ``strict``."""
    m = xp(a)
    return m.triu(a, int(strict)) if upper else m.tril(a, -int(strict))


def solve_triangular_arrays(a, b, upper: bool, left: bool = True, unitriangular: bool = False,
                            transpose: bool = False):
    """X with op(A)·X = B (``left``) or X·op(A) = B, op(A) = Aᵀ when ``transpose``, for A's
    ``upper`` (or lower) triangle, with a unit diagonal when ``unitriangular``. Batches of
    A (..., n, n) and B (..., n, k) broadcast; a zero pivot gives inf/NaN, as LAPACK's trsm."""
    if transpose:
        a, upper = mT(a), not upper
    if not left:  # X·A = B  ⇔  Aᵀ·Xᵀ = Bᵀ
        return mT(solve_triangular_arrays(mT(a), mT(b), not upper, True, unitriangular))
    if upper:  # reversing the rows and the columns turns an upper triangle into a lower one
        flipped = _forward_substitution(a[..., ::-1, ::-1], b[..., ::-1, :], unitriangular)
        return flipped[..., ::-1, :]
    return _forward_substitution(a, b, unitriangular)


def _forward_substitution(lower, b, unitriangular: bool):
    """X = L⁻¹·B row by row, xᵢ = (bᵢ − Σⱼ<ᵢ lᵢⱼ·xⱼ) / lᵢᵢ; in blocks of ``BLOCK`` rows, the
    rows below a block updated at once by a matrix product."""
    m, n = xp(b), lower.shape[-1]
    batch = np.broadcast_shapes(lower.shape[:-2], b.shape[:-2])
    x = m.array(m.broadcast_to(b, batch + b.shape[-2:]), dtype=m.result_type(lower, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, n, BLOCK):
            stop = min(start + BLOCK, n)
            if start:
                x[..., start:stop, :] -= lower[..., start:stop, :start] @ x[..., :start, :]
            for i in range(start, stop):
                if i > start:
                    x[..., i, :] -= (lower[..., i:i + 1, start:i] @ x[..., start:i, :])[..., 0, :]
                if not unitriangular:
                    x[..., i, :] /= lower[..., i, i, None]
    return x


def lu_zero_pivots(a) -> np.ndarray:
    """For each matrix of ``a`` (..., n, n): the 1-based index of the first zero pivot of its
    LU factorisation with partial pivoting (LAPACK getrf's ``info``), 0 where there is none."""
    n = a.shape[-1]
    lu = np.array(a, dtype=a.dtype).reshape(-1, n, n)
    info, rows = np.zeros(lu.shape[0], np.int64), np.arange(lu.shape[0])
    for k in range(n):
        pivot_row = k + np.argmax(np.abs(lu[:, k:, k]), axis=1)
        lu[rows, k], lu[rows, pivot_row] = lu[rows, pivot_row], lu[rows, k].copy()
        pivot = lu[:, k, k]
        info[(pivot == 0) & (info == 0)] = k + 1
        factors = lu[:, k + 1:, k] / np.where(pivot == 0, 1, pivot)[:, None]
        lu[:, k + 1:, k + 1:] -= factors[:, :, None] * lu[:, k, None, k + 1:]
    return info.reshape(a.shape[:-2])


def cholesky_failures(a) -> np.ndarray:
    """For each matrix of ``a`` (..., n, n), its lower triangle read: the order of the first
    leading minor that is not positive-definite (LAPACK potrf's ``info``), 0 where none."""
    n = a.shape[-1]
    lower = np.tril(np.array(a, dtype=a.dtype)).reshape(-1, n, n)
    factor = np.zeros_like(lower)
    info = np.zeros(lower.shape[0], np.int64)
    for k in range(n):
        pivot = lower[:, k, k] - (factor[:, k, :k] ** 2).sum(axis=1)
        info[~(pivot > 0) & (info == 0)] = k + 1
        root = np.sqrt(np.where(pivot > 0, pivot, 1))
        factor[:, k, k] = root
        column = lower[:, k + 1:, k] - (factor[:, k + 1:, :k] @ factor[:, k, :k, None])[..., 0]
        factor[:, k + 1:, k] = column / root[:, None]
    return info.reshape(a.shape[:-2])
