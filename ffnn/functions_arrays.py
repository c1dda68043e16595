"""torch's function forms that rearrange, select from or summarise arrays beyond the common
ones (their methods: ``ffnn.tensor_arrays``, ``tensor_scatter``, ``tensor_statistics``).

The array functions compose the differentiable ops, so gradients follow as torch's do; the
ones that only compute positions (searchsorted, bucketize, tril_indices) return integer
tensors outside the graph.
"""

from __future__ import annotations

import builtins
import itertools
import math
import warnings

import numpy as np

from ffnn import creation, dtypes, ops
from ffnn.functions_more import _as_tensor, _method_form
from ffnn.size import Size
from ffnn.tensor import Tensor, _data_of
from ffnn.tensor_arrays import _dim, _plain
from ffnn.type_promotion import promote_types

METHOD_FORMS = (
    "tile", "ravel", "moveaxis", "swapdims", "diagonal", "diag_embed", "fliplr", "flipud",
    "rot90", "unflatten", "kron", "cross", "tensor_split", "hsplit", "vsplit", "dsplit",
    "take", "take_along_dim", "scatter", "scatter_add", "index_add", "index_copy",
    "index_fill", "median", "nanmedian", "kthvalue", "mode", "msort", "cummax", "cummin",
    "aminmax", "quantile", "nanquantile", "nansum", "nanmean", "histc", "dist", "is_nonzero",
)

__all__ = [
    *METHOD_FORMS, "broadcast_tensors", "broadcast_shapes", "atleast_1d", "atleast_2d",
    "atleast_3d", "column_stack", "dstack", "row_stack", "block_diag", "cartesian_prod",
    "combinations", "vander", "searchsorted", "bucketize", "cdist", "pdist", "trapezoid",
    "trapz", "cumulative_trapezoid", "logspace", "range", "tril_indices", "triu_indices",
]


for _name in METHOD_FORMS:
    globals()[_name] = _method_form(_name)


def _tensors(tensors: tuple) -> tuple[tuple, bool]:
    """(the tensors, whether they came as one list or tuple)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_as_tensor(t) for t in tensors[0]), True
    return tuple(_as_tensor(t) for t in tensors), False


# ----- broadcasting and stacking ---------------------------------------------------------
def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` broadcast to (ints are 1-d shapes)."""
    shapes = tuple((s,) if isinstance(s, int) else tuple(s) for s in shapes)
    try:
        return Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape. "
                           f"Received: shapes {[list(s) for s in shapes]}") from None


def broadcast_tensors(*tensors) -> tuple:
    """Each tensor expanded to the shape they broadcast to (gradients sum back)."""
    tensors, _ = _tensors(tensors)
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def _at_least(tensors: tuple, shape_of):
    tensors, listed = _tensors(tensors)
    out = tuple(t if t.ndim >= len(shape_of(())) else t.reshape(shape_of(tuple(t.shape)))
                for t in tensors)
    return out[0] if len(out) == 1 and not listed else out


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one as shape (1,))."""
    return _at_least(tensors, lambda s: s or (1,))


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions: () → (1, 1), (n,) → (1, n)."""
    return _at_least(tensors, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: () → (1, 1, 1), (n,) → (1, n, 1),
    (m, n) → (m, n, 1)."""
    return _at_least(tensors, lambda s: {0: (1, 1, 1), 1: (1, *s, 1), 2: (*s, 1)}.get(len(s), s))


def _promoted(tensors: tuple) -> tuple:
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = promote_types(dtype, t.dtype)
    return tuple(t if t.dtype == dtype else t.to(dtype) for t in tensors)


def column_stack(tensors) -> Tensor:
    """The tensors side by side, 0-d and 1-d ones as columns."""
    columns = [t.reshape(-1, 1) if t.ndim < 2 else t for t in _tensors((tensors,))[0]]
    return creation.cat(_promoted(tuple(columns)), 1)


def row_stack(tensors) -> Tensor:
    """The tensors one under the other, 0-d and 1-d ones as rows (torch.vstack)."""
    return creation.cat(_promoted(atleast_2d(*_tensors((tensors,))[0]) if tensors else ()), 0)


def dstack(tensors) -> Tensor:
    """The tensors stacked along the third axis, each made at least 3-d first."""
    return creation.cat(_promoted(tuple(atleast_3d(*_tensors((tensors,))[0]))), 2)


def block_diag(*tensors) -> Tensor:
    """A block-diagonal matrix of the tensors (0-d: 1×1, 1-d: a row), zeros elsewhere; the
    dtype that all of them promote to."""
    tensors, _ = _tensors(tensors)
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
    if not tensors:
        return creation.zeros(1, 0)
    blocks = _promoted(tuple(t.reshape(1, -1) if t.ndim < 2 else t for t in tensors))
    width, left, rows = sum(b.shape[1] for b in blocks), 0, []
    for b in blocks:
        height, right = b.shape[0], width - left - b.shape[1]
        pad_left = _plain(np.zeros((height, left), b.dtype))
        pad_right = _plain(np.zeros((height, right), b.dtype))
        rows.append(creation.cat([pad_left, b, pad_right], 1))
        left += b.shape[1]
    return creation.cat(rows, 0)


def cartesian_prod(*tensors) -> Tensor:
    """All tuples of one entry of each 1-d tensor, in order, as rows (a 1-d tensor alone is
    returned as it is)."""
    from ffnn.functions_more import meshgrid

    tensors, _ = _tensors(tensors)
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    return ops.stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-``r`` combinations of a 1-d tensor's entries as rows, in itertools' order."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _plain(np.zeros(0, input.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    index = np.array(list(pick(builtins.range(input.shape[0]), r)), np.int64).reshape(-1, r)
    return input[index]


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:  # noqa: N803
    """The Vandermonde matrix: columns x⁰, x¹, …, x^(N−1) (reversed unless ``increasing``);
    integer and bool x give int64."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x.dtype.kind in "iub":
        x = x.to(np.int64)
    if n == 0:
        return _plain(np.zeros((x.shape[0], 0), x.dtype))
    columns = [_plain(np.ones(x.shape, x.dtype))]
    for _ in builtins.range(n - 1):
        columns.append(columns[-1] * x)
    out = ops.stack(columns, 1)
    return out if increasing else out.flip(1)


# ----- searching -------------------------------------------------------------------------
def _side(side: str | None, right: bool) -> str:
    if side not in (None, "left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                           f"{side}")
    if side == "left" and right:
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got "
                           "side of left while right was True")
    return "right" if right or side == "right" else "left"


def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter=None) -> Tensor:
    """For each value, the index where it would be inserted in the sorted last axis of
    ``sorted_sequence`` (before equal entries, or after them with right / side='right'); an
    n-d sequence searches the row matching the value's leading indices."""
    side = _side(side, right)
    sequence = _as_tensor(sorted_sequence).numpy()
    values = _as_tensor(input).numpy()
    if sorter is not None:
        sequence = np.take_along_axis(sequence, _as_tensor(sorter).numpy(), -1)
    if sequence.ndim == 1:
        found = np.searchsorted(sequence, values, side)
    elif sequence.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(
            f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            f"dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(sequence.shape)} and input value tensor "
            f"{list(values.shape)}")
    else:
        rows = zip(sequence.reshape(-1, sequence.shape[-1]), values.reshape(-1, values.shape[-1]))
        found = np.array([np.searchsorted(s, v, side) for s, v in rows]).reshape(values.shape)
    return _plain(found, np.int32 if out_int32 else np.int64)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each value among 1-d sorted ``boundaries``: i with
    boundaries[i−1] < x ≤ boundaries[i] (boundaries[i−1] ≤ x < boundaries[i] if ``right``)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ----- distances and integrals -----------------------------------------------------------
_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """``torch.pdist``: the distances between every pair of rows (``F.pdist``'s)."""
    from ffnn.nn.loss_more import pdist as pairwise

    return pairwise(input, p)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distances between the rows of x1 [B…, P, M] and x2 [B…, R, M]: [B…, P, R];
    d = (Σₖ |x1ₖ − x2ₖ|ᵖ)^(1/p), gradient 0 where d = 0. For p = 2 with more than 25 rows
    (or ``use_mm_for_euclid_dist``) as torch: √max(|x1|² − 2 x1·x2 + |x2|², 0), by products."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
        if x.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{x.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    batch = tuple(broadcast_shapes(x1.shape[:-2], x2.shape[:-2]))
    x1, x2 = x1.expand(batch + tuple(x1.shape[-2:])), x2.expand(batch + tuple(x2.shape[-2:]))
    if p == 2 and (compute_mode == _CDIST_MODES[1] or (
            compute_mode == _CDIST_MODES[0] and max(x1.shape[-2], x2.shape[-2]) > 25)):
        return _euclidean_by_products(x1, x2)
    from ffnn.tensor_statistics import _lp_norm

    return _lp_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p)


def _euclidean_by_products(x1: Tensor, x2: Tensor) -> Tensor:
    """√max(|a|² − 2 a·b + |b|², 0) for each pair of rows, as one matmul (torch's
    _euclidean_dist); the gradient is 0 where the clamp holds, and where the square comes out
    exactly 0 (√'s 1/0 would make it NaN; whether it does depends on the BLAS's rounding)."""
    norms1, norms2 = (x1 * x1).sum(-1, keepdim=True), (x2 * x2).sum(-1, keepdim=True)
    ones1, ones2 = _plain(np.ones(norms1.shape, x1.dtype)), _plain(np.ones(norms2.shape, x2.dtype))
    left = creation.cat([x1 * -2, norms1, ones1], -1)
    right = creation.cat([x2, ones2, norms2], -1)
    squares = ops.matmul(left, right.transpose(-1, -2)).clamp(min=0)
    positive = squares > 0
    return ops.where(positive, ops.where(positive, squares, 1.0).sqrt(), 0.0)


def _spacing(y: Tensor, x: Tensor, axis: int) -> Tensor:
    """x's differences along ``axis``, shaped to broadcast against y's (torch's trapezoid)."""
    if x.ndim == 1:
        if x.shape[0] != y.shape[axis]:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        shape = [1] * y.ndim
        shape[axis] = x.shape[0]
        x = x.reshape(shape)
    elif x.ndim < y.ndim:
        x = x.reshape((1,) * (y.ndim - x.ndim) + tuple(x.shape))
    length = x.shape[axis]
    return x.narrow(axis, 1, length - 1) - x.narrow(axis, 0, length - 1)


def _pair_sums(y: Tensor, axis: int) -> Tensor:
    length = y.shape[axis]
    return y.narrow(axis, 1, length - 1) + y.narrow(axis, 0, length - 1)


def trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """∫ y by the trapezoidal rule along ``dim``: Σᵢ (xᵢ₊₁ − xᵢ)(yᵢ + yᵢ₊₁)/2 with sample
    points ``x``, or dx·(Σ y − (y₀ + yₙ₋₁)/2) with spacing ``dx`` (1 by default)."""
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received both x and dx; pass one of them")
    axis = _dim(dim, y.ndim)
    if y.shape[axis] == 0:
        return creation.zeros(*(n for d, n in enumerate(y.shape) if d != axis),
                              dtype=y.dtype if y.dtype.kind == "f" else None)
    if x is None:
        ends = (y.select(axis, 0) + y.select(axis, -1)) * 0.5
        return (y.sum(axis) - ends) * (1 if dx is None else dx)
    return (_spacing(y, _as_tensor(x), axis) * _pair_sums(y, axis)).sum(axis) / 2.0


def trapz(y: Tensor, x: Tensor | None = None, *, dx=None, dim: int = -1) -> Tensor:
    """torch.trapz: trapezoid."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx=None,
                         dim: int = -1) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one entry fewer than y): the cumulative
    sums of (xᵢ₊₁ − xᵢ)(yᵢ + yᵢ₊₁)/2, or of dx/2·(yᵢ + yᵢ₊₁)."""
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid() received both x and dx; pass one of them")
    axis = _dim(dim, y.ndim)
    if x is None:
        return ((1 if dx is None else dx) / 2.0 * _pair_sums(y, axis)).cumsum(axis)
    return (_spacing(y, _as_tensor(x), axis) * _pair_sums(y, axis)).cumsum(axis) / 2.0


# ----- factories -------------------------------------------------------------------------
def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` points base^e, e evenly spaced from start to end (the first half counted from
    start, the second from end) with torch's roundings (``ffnn.spacing``)."""
    from ffnn.spacing import logspace_values

    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    values = logspace_values(_data_of(start), _data_of(end), int(steps), base,
                             dtypes.to_dtype(dtype))
    return creation.tensor(values, device=device, requires_grad=requires_grad)


def _range(start=0, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, …, up to and including ``end`` (deprecated in torch, which warns;
    the default float dtype unless ``dtype``)."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    size = math.floor((end - start) / step) + 1
    values = start + step * np.arange(size, dtype=np.float64)
    return creation.tensor(values.astype(dtypes.to_dtype(dtype)), device=device,
                           requires_grad=requires_grad)


def _triangle_indices(row: int, col: int, offset: int, dtype, lower: bool) -> Tensor:
    for name, n in (("row", row), ("col", col)):
        if n < 0:
            raise RuntimeError(f"{name} must be non-negative, got{n}")
    found = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return _plain(np.stack(found), dtypes.to_dtype(dtype))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=np.int64, device=None,
                 layout=None) -> Tensor:
    """The (row, column) indices, as a 2 × N tensor in row-major order, of the entries of a
    row × col matrix on and below its ``offset`` diagonal."""
    return _triangle_indices(row, col, offset, dtype, lower=True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=np.int64, device=None,
                 layout=None) -> Tensor:
    """The indices of the entries on and above the ``offset`` diagonal (see tril_indices)."""
    return _triangle_indices(row, col, offset, dtype, lower=False)


range = _range  # noqa: A001 - torch's name (this module's code uses builtins.range)
