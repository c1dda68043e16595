"""``torch.linalg``'s norms: ``vector_norm`` and ``norm`` (vector norms and the Frobenius norm).

vector_norm(x, ord) = (Σ |xᵢ|^ord)^(1/ord) over ``dim`` (all elements when None);
ord=inf is max |xᵢ|, ord=-inf is min |xᵢ|, ord=0 counts the non-zero entries. A finite ord
is one op (``ops.reductions.Norm``: at a zero vector its gradient is torch's 0, not 0/0).
"""

from __future__ import annotations

import math

from ffnn import ops
from ffnn.tensor import Tensor

__all__ = ["norm", "vector_norm"]


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


def norm(x: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """torch.linalg.norm: the 2-norm of all entries when ``ord`` is None (the Frobenius norm of
    a matrix), ``ord='fro'`` over a matrix's two dims, or a vector norm over one ``dim``."""
    if ord is None or ord == "fro":
        if ord == "fro" and dim is None and x.ndim != 2:
            raise ValueError(f"linalg.norm: ord='fro' needs a matrix (2 dims) or dim=, "
                             f"received a tensor of {x.ndim} dims")
        return vector_norm(x, 2, dim, keepdim, dtype=dtype)
    is_matrix = (dim is None and x.ndim == 2) or (isinstance(dim, (tuple, list)) and len(dim) == 2)
    if isinstance(ord, str) or is_matrix:
        raise NotImplementedError(
            f"linalg.norm: the matrix norm ord={ord!r} is not available in ffnn; "
            "use ord=None or 'fro', or a vector norm over one dim")
    return vector_norm(x, ord, dim, keepdim, dtype=dtype)
