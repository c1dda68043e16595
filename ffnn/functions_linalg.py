"""torch's top-level linear-algebra functions (``torch.inverse``, ``torch.det``,
``torch.svd`` …): the older spellings of ``ffnn.linalg``'s, with their older signatures
and result tuples. Their methods (``t.inverse()`` …) are in ``ffnn.tensor_linalg``."""

from __future__ import annotations

import math

import numpy as np

from ffnn import ops
from ffnn.out_argument import write_out
from ffnn.return_types import result_type
from ffnn.tensor import Tensor


def _linalg():
    """``ffnn.linalg``, imported at the first call (``import ffnn`` stays lighter)."""
    from ffnn import linalg  # noqa: PLC0415

    return linalg


def _decompositions():
    from ffnn.ops import decompositions  # noqa: PLC0415 - see _linalg

    return decompositions


__all__ = ["inverse", "det", "logdet", "slogdet", "cholesky", "cholesky_solve",
           "cholesky_inverse", "pinverse", "matrix_power", "matrix_exp", "svd", "qr",
           "triangular_solve", "chain_matmul", "tensordot"]

SlogdetResult = result_type("slogdet", ["sign", "logabsdet"])
SvdResult = result_type("svd", ["U", "S", "V"])
QrResult = result_type("qr", ["Q", "R"])
TriangularSolveResult = result_type("triangular_solve",
                                           ["solution", "cloned_coefficient"])


def _constant(array) -> Tensor:
    """A tensor of ``array`` outside any graph."""
    return Tensor._make(array, False, None)


def _finish(result: Tensor, out, name: str) -> Tensor:
    return result if out is None else write_out(out, result, name)


def inverse(input: Tensor, *, out=None) -> Tensor:  # noqa: A002 - torch's name
    """A⁻¹ (``linalg.inv``)."""
    return _linalg().inv(input, out=out)


def det(input: Tensor) -> Tensor:  # noqa: A002
    """det A (``linalg.det``)."""
    return _linalg().det(input)


def logdet(input: Tensor) -> Tensor:  # noqa: A002
    """log det A: NaN where det A < 0, −inf where it is 0; dL/dA = dL/dy · A⁻ᵀ."""
    sign, logabsdet = _linalg().slogdet(input)
    return ops.where(sign < 0, _constant(np.asarray(np.nan, input._data.dtype)), logabsdet)


def slogdet(input: Tensor) -> tuple:  # noqa: A002
    """(sign, logabsdet) (``linalg.slogdet``, as torch.return_types.slogdet)."""
    return SlogdetResult(*_linalg().slogdet(input))


def cholesky(input: Tensor, upper: bool = False, *, out=None) -> Tensor:  # noqa: A002
    """The Cholesky factor, lower (or upper, A = Uᵀ·U): torch's older form of
    ``linalg.cholesky``, whose errors say "cholesky"."""
    _linalg().check_matrices("cholesky", input)
    factor = _decompositions().Cholesky.apply(input, name="cholesky")
    return _finish(factor.mT if upper else factor, out, "cholesky")


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False, *,  # noqa: A002
                   out=None) -> Tensor:
    """X = A⁻¹·B for B = ``input`` (..., n, k) and A = L·Lᵀ (Uᵀ·U when ``upper``) given by its
    Cholesky factor ``input2`` (..., n, n), the batches broadcast."""
    _linalg().check_matrices("cholesky_solve", input, square=False, arg="input")
    _linalg().check_matrices("cholesky_solve", input2, arg="input2")
    if input.shape[-2] != input2.shape[-1] or input.dtype != input2.dtype:
        raise RuntimeError(f"cholesky_solve: Incompatible matrix sizes or dtypes for "
                           f"cholesky_solve: each A matrix is {input2.shape[-1]} by "
                           f"{input2.shape[-1]} but each b matrix is {input.shape[-2]} by "
                           f"{input.shape[-1]} ({input2.dtype} and {input.dtype})")
    result = _decompositions().CholeskySolve.apply(input, input2, upper=bool(upper))
    return _finish(result, out, "cholesky_solve")


def cholesky_inverse(input: Tensor, upper: bool = False, *, out=None) -> Tensor:  # noqa: A002
    """A⁻¹ of A = L·Lᵀ (Uᵀ·U when ``upper``) from its Cholesky factor (..., n, n)."""
    _linalg().check_matrices("cholesky_inverse", input)
    identity = np.broadcast_to(np.eye(input.shape[-1], dtype=input._data.dtype), input.shape)
    return cholesky_solve(_constant(identity.copy()), input, upper, out=out)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """A⁺, singular values ≤ rcond·σ_max taken as zero (``linalg.pinv``)."""
    return _linalg().pinv(input, rtol=rcond)


def matrix_power(input: Tensor, n: int) -> Tensor:  # noqa: A002
    """Aⁿ (``linalg.matrix_power``)."""
    return _linalg().matrix_power(input, n)


def matrix_exp(input: Tensor) -> Tensor:  # noqa: A002
    """exp(A) (``linalg.matrix_exp``)."""
    return _linalg().matrix_exp(input)


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> tuple:  # noqa: A002
    """(U, S, V) with A = U·diag(S)·Vᵀ (V, not Vh); full U and V when ``some=False``; when
    not ``compute_uv``, U (..., m, m) and V (..., n, n) are zeros, as torch's."""
    if not compute_uv:
        *batch, m, n = input.shape
        zeros = [_constant(np.zeros((*batch, k, k), input._data.dtype)) for k in (m, n)]
        return SvdResult(zeros[0], _linalg().svdvals(input), zeros[1])
    u, s, vh = _linalg().svd(input, full_matrices=not some)
    return SvdResult(u, s, vh.mT)


def qr(input: Tensor, some: bool = True) -> tuple:  # noqa: A002
    """(Q, R) (``linalg.qr``, 'reduced' when ``some``, else 'complete')."""
    return QrResult(*_linalg().qr(input, "reduced" if some else "complete"))


def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,  # noqa: N803
                     unitriangular: bool = False) -> tuple:
    """(X, a copy of A) with op(A)·X = b for triangular A, op(A) = Aᵀ when ``transpose``
    (``linalg.solve_triangular``)."""
    coefficient = A.mT if transpose else A
    solution = _linalg().solve_triangular(coefficient, b, upper=upper != transpose,
                                       unitriangular=unitriangular)
    return TriangularSolveResult(solution, A.clone())


def chain_matmul(*matrices: Tensor, out=None) -> Tensor:
    """The product of 2-D tensors (``linalg.multi_dot``; deprecated in torch)."""
    if len(matrices) == 1:
        return _finish(matrices[0].clone(), out, "chain_matmul")
    return _linalg().multi_dot(matrices, out=out)


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Σ over paired axes of ``a`` and ``b``: ``dims`` = n pairs a's last n axes with b's
    first n, or ``([a axes], [b axes])`` names the pairs. Computed as one matrix product
    [free of a, paired] @ [paired, free of b] of permuted, reshaped operands, so
    differentiable in both."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        left, right = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        left, right = ([d] if isinstance(d, int) else list(d) for d in dims)
    left = [ops.reductions.normalize_dim(d, a.ndim) for d in left]
    right = [ops.reductions.normalize_dim(d, b.ndim) for d in right]
    if len(left) != len(right) or any(a.shape[i] != b.shape[j] for i, j in zip(left, right)):
        raise RuntimeError(f"contracted dimensions need to match, but first has sizes "
                           f"{[a.shape[i] for i in left]} and second has sizes "
                           f"{[b.shape[j] for j in right]}")
    free_a = [i for i in range(a.ndim) if i not in left]
    free_b = [j for j in range(b.ndim) if j not in right]
    sizes_a, sizes_b = [a.shape[i] for i in free_a], [b.shape[j] for j in free_b]
    paired = math.prod(a.shape[i] for i in left)
    lhs = a.permute(free_a + left).reshape(math.prod(sizes_a), paired)
    rhs = b.permute(right + free_b).reshape(paired, math.prod(sizes_b))
    return _finish((lhs @ rhs).reshape(sizes_a + sizes_b), out, "tensordot")
