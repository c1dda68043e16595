"""Inverses, solves and determinants (``inv``, ``solve``, ``solve_triangular``, ``det``,
``slogdet`` and their ``_ex`` forms)."""

from __future__ import annotations

import numpy as np

from ffnn.backend import xp
from ffnn.linalg.checks import (
    InvExResult,
    SlogdetResult,
    SolveExResult,
    _check_batches,
    _check_same_dtype,
    _out,
    _plain,
    check_matrices,
)
from ffnn.ops.decompositions import (
    Det,
    Inverse,
    LinAlgError,
    LogAbsDet,
    Solve,
    SolveTriangular,
    inverse_where_regular,
)
from ffnn.ops.triangular import lu_zero_pivots
from ffnn.tensor import Tensor


def inv(A: Tensor, *, out=None) -> Tensor:
    """A⁻¹ of each matrix of A (..., n, n); ``LinAlgError`` for a singular one."""
    check_matrices("linalg.inv", A)
    return _out(Inverse.apply(A), out, "linalg.inv")


def inv_ex(A: Tensor, *, check_errors: bool = False) -> tuple:
    """(inverse, info): info (int32, one per matrix) is the index of LU's first zero pivot,
    0 for an invertible matrix, whose inverse is then NaN (no error unless
    ``check_errors``)."""
    check_matrices("linalg.inv_ex", A)
    try:
        inverse = Inverse.apply(A, name="linalg.inv_ex")
    except LinAlgError:
        if check_errors:
            raise
        inverse = _plain(inverse_where_regular(A._data))
        return InvExResult(inverse, _plain(lu_zero_pivots(A._data).astype(np.int32)))
    return InvExResult(inverse, _plain(np.zeros(A.shape[:-2], np.int32)))


def _is_vector_rhs(A: Tensor, B: Tensor) -> bool:
    """torch's rule: B is a vector (or a batch of them) when 1-D or of A's shape less one."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """X with A·X = B (or X·A = B when ``left=False``) for A (..., n, n) and B (..., n, k)
    or (..., n) (a vector), the batches broadcast; ``LinAlgError`` for a singular A."""
    check_matrices("linalg.solve", A)
    _check_same_dtype("linalg.solve", A, B)
    vector, n = _is_vector_rhs(A, B), A.shape[-1]
    if not left:
        if vector:
            raise RuntimeError("linalg.solve: Vector broadcasting of the left hand side is not "
                               "supported for left=False. In this case linalg.solve is "
                               "equivalent to B / A.squeeze(-1)")
        if B.shape[-1] != n:
            raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                               f"XA = B ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})")
        return _out(solve(A.mT, B.mT).mT, out, "linalg.solve")
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})")
    _check_batches("linalg.solve", A, b)
    x = Solve.apply(A, b)
    return _out(x.squeeze(-1) if vector else x, out, "linalg.solve")


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> tuple:
    """(result, info) of ``solve``: info (int32) as ``inv_ex``'s, the result NaN where it is
    non-zero (no error unless ``check_errors``)."""
    try:
        return SolveExResult(solve(A, B, left=left),
                             _plain(np.zeros(A.shape[:-2], np.int32)))
    except LinAlgError:
        if check_errors:
            raise
    info = lu_zero_pivots(A._data)
    inverse = _plain(inverse_where_regular(A._data))
    x = inverse @ (B.unsqueeze(-1) if _is_vector_rhs(A, B) else B) if left else B @ inverse
    return SolveExResult(x.squeeze(-1) if _is_vector_rhs(A, B) else x,
                         _plain(info.astype(np.int32)))


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False, out=None) -> Tensor:
    """X with A·X = B (or X·A = B) for A (..., n, n) triangular (only its ``upper`` or
    lower triangle is read; its diagonal taken as ones if ``unitriangular``) and B
    (..., n, k) ((..., k, n) when ``left=False``); a zero pivot gives inf/NaN, as torch."""
    name = "linalg.solve_triangular"
    check_matrices(name, A)
    _check_same_dtype(name, A, B)
    check_matrices(name, B, square=False, arg="B")
    n, size = A.shape[-1], B.shape[-2] if left else B.shape[-1]
    if size != n:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation "
                           f"{'AX' if left else 'XA'} = B ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    _check_batches(name, A, B)
    x = SolveTriangular.apply(A, B, upper=bool(upper), left=bool(left),
                              unitriangular=bool(unitriangular))
    return _out(x, out, name)


def det(A: Tensor, *, out=None) -> Tensor:
    """det A of each matrix of A (..., n, n) → (...)."""
    check_matrices("linalg.det", A)
    return _out(Det.apply(A), out, "linalg.det")


def slogdet(A: Tensor) -> tuple:
    """(sign, logabsdet) with det A = sign · exp(logabsdet): sign 0 and logabsdet −inf for a
    singular matrix; only logabsdet is differentiable."""
    check_matrices("linalg.slogdet", A)
    sign = xp(A._data).linalg.slogdet(A._data)[0].astype(A._data.dtype)
    return SlogdetResult(_plain(sign), LogAbsDet.apply(A))
