"""Norms: ``vector_norm``, ``matrix_norm``, ``norm``, ``cond``."""

from __future__ import annotations

import math

import numpy as np

from ffnn import ops
from ffnn.linalg.checks import _out, _plain, check_matrices
from ffnn.linalg.factorizations import svdvals
from ffnn.linalg.solves import inv_ex
from ffnn.tensor import Tensor


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *,  # noqa: A002
                dtype=None) -> Tensor:
    """The ``ord``-norm of ``x``'s entries over ``dim`` (int, tuple or None: all)."""
    if dtype is not None:
        x = x.to(dtype)
    if not isinstance(ord, (int, float)) or isinstance(ord, bool):
        raise TypeError(f"linalg.vector_norm: ord must be a number, received {ord!r}")
    if ord not in (math.inf, -math.inf, 0):  # a p-norm: one op
        return ops.norm(x, float(ord), dim, keepdim)
    magnitude = ops.abs(x)
    if ord == math.inf:
        return magnitude.amax(dim=dim, keepdim=keepdim) if dim is not None else magnitude.max()
    if ord == -math.inf:
        return magnitude.amin(dim=dim, keepdim=keepdim) if dim is not None else magnitude.min()
    counts = (magnitude != 0).to(x.dtype) + magnitude * 0  # d/dx is 0, as torch's
    return ops.sum(counts, dim, keepdim)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *,  # noqa: A002
                dtype=None) -> Tensor:
    """The matrix norm over the two axes ``dim``: 'fro' √Σaᵢⱼ², 'nuc' Σσᵢ, 2 / −2 the largest /
    smallest singular value, 1 / −1 the largest / smallest column sum of |aᵢⱼ|, inf / −inf
    the largest / smallest row sum."""
    name = "linalg.matrix_norm"
    if not isinstance(A, Tensor) or A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    A = A if dtype is None else A.to(dtype)
    rows, cols = (d % A.ndim for d in dim)
    if rows == cols:
        raise RuntimeError(f"{name}: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        check_matrices(name, A, square=False)
        values = svdvals(A.moveaxis((rows, cols), (-2, -1)))
        norm_ = values.sum(-1) if ord == "nuc" else values.amax(-1) if ord == 2 else \
            values.amin(-1)
        return norm_.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols)) if keepdim else norm_
    if ord in (1, -1, math.inf, -math.inf):
        summed, other = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = ops.abs(A).sum(dim=summed, keepdim=True)
        norm_ = sums.amax(dim=other, keepdim=True) if ord > 0 else \
            sums.amin(dim=other, keepdim=True)
        return norm_ if keepdim else norm_.squeeze(max(rows, cols)).squeeze(min(rows, cols))
    raise RuntimeError(f"{name}: Order {ord} not supported.")


def norm(x: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:  # noqa: A002
    """torch.linalg.norm: with ``ord`` None the 2-norm of the entries (over ``dim``, all when
    None); else a vector norm over one dim, a matrix norm (``matrix_norm``) over two, with
    ``dim`` None meaning all the dims of a 1-D or 2-D ``x``."""
    dims = (dim,) if isinstance(dim, int) else None if dim is None else tuple(dim)
    if ord is None:
        return vector_norm(x, 2, dims, keepdim, dtype=dtype)
    if dims is None:
        if x.ndim not in (1, 2):
            raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {x.ndim}D.")
        dims = tuple(range(x.ndim))
    if isinstance(ord, str) or len(dims) == 2:
        return matrix_norm(x, ord, dims, keepdim, dtype=dtype)
    if len(dims) != 1:
        raise RuntimeError("linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    return vector_norm(x, ord, dims, keepdim, dtype=dtype)


def cond(A: Tensor, p=None, *, out=None) -> Tensor:
    """The condition number ‖A‖_p·‖A⁻¹‖_p: σ_max/σ_min for p None or 2 (σ_min/σ_max for −2,
    any A (..., m, n)), else through ``inv`` (square A; inf for a singular one)."""
    if p in (None, 2, -2):
        values = svdvals(A)
        top, bottom = values[..., 0], values[..., -1]
        with np.errstate(divide="ignore", invalid="ignore"):  # σ_min = 0: inf, as torch
            ratio = bottom / top if p == -2 else top / bottom
        return _out(ratio, out, "linalg.cond")
    check_matrices("linalg.cond", A)
    inverse, info = inv_ex(A)
    result = matrix_norm(A, p) * matrix_norm(inverse, p)
    infinity = _plain(np.asarray(np.inf, A._data.dtype))
    return _out(ops.where(info != 0, infinity, result), out, "linalg.cond")
