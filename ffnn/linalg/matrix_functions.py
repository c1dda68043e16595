"""Matrix functions (``matrix_power``, ``matrix_exp``, ``tensorinv``, ``tensorsolve``) and
products (``matmul``, ``vecdot``, ``cross``, ``multi_dot``, ``diagonal``, ``vander``)."""

from __future__ import annotations

import math

import numpy as np

from ffnn import ops
from ffnn.linalg.checks import _out, _plain, check_matrices
from ffnn.linalg.solves import inv, solve
from ffnn.ops.matrix_functions import MatrixExp
from ffnn.tensor import Tensor


def matrix_power(A: Tensor, n: int, *, out=None) -> Tensor:
    """Aⁿ by repeated squaring (A⁻ⁿ through ``inv`` for n < 0, the identity for n = 0)."""
    check_matrices("linalg.matrix_power", A)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: argument 'n' must be int, not "
                        f"{type(n).__name__}")
    if n == 0:
        identity = np.broadcast_to(np.eye(A.shape[-1], dtype=A._data.dtype), A.shape)
        return _out(_plain(identity.copy()), out, "linalg.matrix_power")
    base, n, result = (inv(A) if n < 0 else A), abs(int(n)), None
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _out(result, out, "linalg.matrix_power")


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) = Σₖ Aᵏ/k! of each matrix of A (..., n, n) (scaling and squaring, Padé)."""
    check_matrices("linalg.matrix_exp", A)
    return MatrixExp.apply(A)


def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """The inverse of A as the matrix [Π shape[:ind], Π shape[ind:]], shaped shape[ind:] +
    shape[:ind], so that tensordot(tensorinv(A), A, ind) is the identity."""
    rows, cols = math.prod(A.shape[:ind]), math.prod(A.shape[ind:])
    if ind <= 0 or rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    inverse = inv(A.reshape(rows, cols))
    return _out(inverse.reshape(tuple(A.shape[ind:]) + tuple(A.shape[:ind])), out,
                "linalg.tensorinv")


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B (X of shape A.shape[B.ndim:]); ``dims`` moves those
    axes of A to the end first."""
    if dims is not None:
        A = A.moveaxis(tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    rest = tuple(A.shape[B.ndim:])
    x = solve(A.reshape(B.numel(), math.prod(rest)), B.reshape(-1))
    return _out(x.reshape(rest), out, "linalg.tensorsolve")


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """``torch.matmul``, as torch.linalg.matmul."""
    return _out(ops.matmul(input, other), out, "linalg.matmul")


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1, out=None) -> Tensor:
    """Σᵢ xᵢ·yᵢ along ``dim`` (the two broadcast)."""
    return _out((x * y).sum(dim), out, "linalg.vecdot")


def cross(input: Tensor, other: Tensor, *, dim: int = -1, out=None) -> Tensor:  # noqa: A002
    """The cross product of 3-vectors along ``dim`` (-1 by default, unlike torch.cross)."""
    return _out(input.cross(other, dim=dim), out, "linalg.cross")


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The ``offset`` diagonals of the (dim1, dim2) matrices of A, as a last axis."""
    return A.diagonal(offset, dim1, dim2)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803 - torch's name
    """The Vandermonde matrices of x (..., n) → (..., n, N): column j is xʲ, j = 0 … N − 1
    (N defaults to n)."""
    N = x.shape[-1] if x.ndim and N is None else N  # noqa: N806
    if N is None or N <= 1:
        raise RuntimeError("N must be greater than 1.")
    column = x.unsqueeze(-1)
    powers = column.expand(*x.shape, N - 1).cumprod(-1)
    return ops.concatenate([column.new_ones(tuple(column.shape)), powers], -1)


def multi_dot(tensors, *, out=None) -> Tensor:
    """The product of 2-D tensors (the first and the last may be 1-D) in the cheapest order
    of multiplication."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        where = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
        if (where and t.ndim not in (1, 2)) or (not where and t.ndim != 2):
            kind = f"the {where} tensor" if where else f"tensor {i}"
            raise RuntimeError(f"multi_dot(): {kind} must be {'1D or 2D' if where else '2D'} "
                               f"but got {t.ndim}D")
    first_vector, last_vector = tensors[0].ndim == 1, tensors[-1].ndim == 1
    matrices = [tensors[0].unsqueeze(0) if first_vector else tensors[0], *tensors[1:-1],
                tensors[-1].unsqueeze(-1) if last_vector else tensors[-1]]
    for i, (a, b) in enumerate(zip(matrices, matrices[1:])):
        if a.shape[1] != b.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(tensors[i].shape)} and {list(tensors[i + 1].shape)} "
                               "cannot be multiplied")
    result = _chain_product(matrices)
    result = result.squeeze(0) if first_vector else result
    return _out(result.squeeze(-1) if last_vector else result, out, "linalg.multi_dot")


def _chain_product(matrices: list) -> Tensor:
    """The product of a chain of matrices, parenthesised by the classic O(k³) dynamic
    programme over the flop counts."""
    sizes = [matrices[0].shape[0]] + [t.shape[1] for t in matrices]
    count = len(matrices)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                for k in range(i, j))

    def product(i: int, j: int) -> Tensor:
        if i == j:
            return matrices[i]
        return product(i, split[i][j]) @ product(split[i][j] + 1, j)

    return product(0, count - 1)
