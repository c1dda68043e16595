"""Tensor methods that write values into chosen positions, as torch's: ``index_put``,
``masked_scatter``, ``scatter_reduce``, ``put`` (with their in-place forms), and
``slice_scatter``, ``select_scatter``, ``diagonal_scatter`` (``ffnn.functions_writes`` has
the function forms). Writes are ``SetItem`` (dL/dself = dL/dy where not written, dL/dsrc =
dL/dy where written), sums ``ScatterAdd``, reductions ``ffnn.ops.scatter_reduce``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ffnn.tensor import Tensor

from ffnn.tensor_arrays import _along, _array, _dim, _ops, _tensor_cls
from ffnn.tensor_inplace import _torch_name

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _require_tensor(value, name: str, argument: str, position: int) -> None:
    if not isinstance(value, _tensor_cls()):
        raise TypeError(f"{name}(): argument '{argument}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def _broadcast(a: tuple, b: tuple) -> tuple:
    """The broadcast shape of a and b, or torch's RuntimeError naming the first mismatch."""
    for axis in range(1, min(len(a), len(b)) + 1):
        if a[-axis] != b[-axis] and 1 not in (a[-axis], b[-axis]):
            raise RuntimeError(f"The size of tensor a ({a[-axis]}) must match the size of "
                               f"tensor b ({b[-axis]}) at non-singleton dimension "
                               f"{max(len(a), len(b)) - axis}")
    return tuple(np.broadcast_shapes(a, b))


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether a tensor of ``shape`` can be expanded to ``target``."""
    return len(shape) <= len(target) and all(
        n in (1, m) for n, m in zip(shape[::-1], target[::-1]))


def _index_part(part, axis: int, shape: tuple) -> tuple:
    """One entry of index_put's indices as integer arrays: a bool (or uint8) mask over the
    axes from ``axis`` becomes their nonzero positions; integers are checked against the
    size of ``axis``."""
    array = _array(part)
    if array.dtype.kind == "b" or array.dtype == np.uint8:
        sizes = shape[axis:axis + array.ndim]
        if array.shape != sizes:
            bad = next((d for d, (m, n) in enumerate(zip(array.shape, sizes)) if m != n), 0)
            raise IndexError(f"The shape of the mask {list(array.shape)} at index {bad} does "
                             f"not match the shape of the indexed tensor {list(shape)} at "
                             f"index {axis + bad}")
        return np.nonzero(array.astype(bool))
    if array.dtype.kind not in "iu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    size = shape[axis]
    outside = (array < -size) | (array >= size)
    if outside.any():
        raise IndexError(f"index {array[outside].flat[0]} is out of bounds for dimension "
                         f"{axis} with size {size}")
    return (array.astype(np.int64),)


class WriteTensorMethods:
    """Mixed into ``ffnn.Tensor``; ``self`` is a Tensor."""

    def _put_index(self, indices) -> tuple:
        """index_put's indices (a tuple or list of tensors) as a NumPy index, checked."""
        if isinstance(indices, _tensor_cls()) or not isinstance(indices, (tuple, list)):
            raise TypeError(f"index_put(): argument 'indices' (position 1) must be tuple of "
                            f"Tensors, not {type(indices).__name__}")
        for i, part in enumerate(indices):
            if not isinstance(part, _tensor_cls()):
                raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                                f"{type(part).__name__}")
        used = sum(p.ndim if p.dtype.kind == "b" or p.dtype == np.uint8 else 1 for p in indices)
        if used > self.ndim:
            raise IndexError(f"too many indices for tensor of dimension {self.ndim} (got "
                             f"{used})")
        parts, axis = [], 0
        for part in indices:
            found = _index_part(part, axis, tuple(self.shape))
            parts.extend(found)
            axis += len(found)
        return tuple(parts)

    def index_put(self, indices, values, accumulate: bool = False) -> Tensor:
        """y = self with y[indices] = values (broadcast to the indexed shape), or
        y[indices] += values with repeats adding up when ``accumulate``;
        dL/dvalues = dL/dy[indices] (summed over the broadcast)."""
        from ffnn.ops.scatter_more import ScatterAdd

        _require_tensor(values, "index_put", "values", 2)
        where = self._put_index(indices)
        if values.dtype != self.dtype:
            raise RuntimeError(f"Index put requires the source and destination dtypes match, "
                               f"got {_torch_name(self.dtype)} for the destination and "
                               f"{_torch_name(values.dtype)} for the source.")
        picked = np.broadcast_to(np.zeros((), bool), self.shape)[where].shape
        if not _broadcasts_to(tuple(values.shape), picked):
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} "
                               f"cannot be broadcast to indexing result of shape "
                               f"{list(picked)}")
        if accumulate:
            return ScatterAdd.apply(self, values.expand(picked), index=where)
        return _ops().shape.SetItem.apply(self, values, index=where)

    def masked_scatter(self, mask, source) -> Tensor:
        """y = self (broadcast with mask) with the positions where ``mask`` is true, in
        row-major order, taking source's first entries (flattened) one after another;
        dL/dsource = dL/dy at those positions, 0 for source's unused entries."""
        _require_tensor(source, "masked_scatter", "source", 2)
        mask_array = _array(mask)
        if mask_array.dtype.kind != "b":
            raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask "
                               f"with dtype {_torch_name(mask_array.dtype)}")
        if source.dtype != self.dtype:
            raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes "
                               f"but got{_torch_name(self.dtype)} and "
                               f"{_torch_name(source.dtype)}")
        shape = _broadcast(tuple(self.shape), mask_array.shape)
        where = np.nonzero(np.broadcast_to(mask_array, shape))
        if source.numel() < len(where[0]):
            raise RuntimeError("Number of elements of source < number of ones in mask")
        base = self if tuple(self.shape) == shape else self.expand(shape)
        return _ops().shape.SetItem.apply(base, source.reshape(-1)[:len(where[0])], index=where)

    def scatter_reduce(self, dim: int, index, src, reduce: str, *,
                       include_self: bool = True) -> Tensor:
        """y[p] = reduce({self[p] if include_self} ∪ {src[i…] : p = (…, index[i…], …)}) along
        ``dim`` with reduce in sum, prod, mean (integers rounded down), amax, amin; gradients
        as torch's (see ``ffnn.ops.scatter_reduce.ScatterReduce``)."""
        from ffnn.ops.scatter_reduce import ScatterReduce

        _require_tensor(src, "scatter_reduce", "src", 3)
        if reduce not in REDUCTIONS:
            raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                               f"got {reduce}")
        where = self._scatter_where(dim, index, tuple(src.shape), "scatter")
        return ScatterReduce.apply(self, self._scatter_source(where, src, "scatter"),
                                   index=where, reduce=reduce, include_self=include_self)

    def put(self, index, source, accumulate: bool = False) -> Tensor:
        """y = self with y.flatten()[index] = source.flatten() (or += when ``accumulate``,
        repeats adding up); negative indices count from the end."""
        from ffnn.ops.scatter_more import ScatterAdd

        _require_tensor(source, "put", "source", 2)
        positions = _array(index)
        if positions.dtype.kind not in "iu":
            raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                               f"{_torch_name(positions.dtype)}")
        if source.dtype != self.dtype:
            raise RuntimeError(f"put_(): self and source expected to have the same dtype, but "
                               f"got self.dtype = {_torch_name(self.dtype)} and source.dtype = "
                               f"{_torch_name(source.dtype)}")
        if source.numel() != positions.size:
            raise IndexError(f"put_(): Expected source and index to have the same number of "
                             f"elements, but got source.numel() = {source.numel()}, "
                             f"index.numel() = {positions.size}")
        n = self.numel()
        flat = positions.reshape(-1).astype(np.int64)
        outside = (flat < -n) | (flat >= n)
        if outside.any():
            raise IndexError(f"out of range: tried to access index {flat[outside][0]} on a "
                             f"tensor of {n} elements.")
        where = (np.where(flat < 0, flat + n, flat),)
        op = ScatterAdd if accumulate else _ops().shape.SetItem
        return op.apply(self.reshape(-1), source.reshape(-1), index=where).reshape(self.shape)

    def _scatter_into(self, src, index: tuple, picked: tuple, name: str,
                      moved_to: int | None = None) -> Tensor:
        """y = self with y[index] = src, src of exactly the shape ``picked`` (cast to self's
        dtype, as torch's ``*_scatter``; its last axis moved to ``moved_to`` first if given)."""
        _require_tensor(src, name, "src", 2)
        if tuple(src.shape) != tuple(picked):
            raise RuntimeError(f"expected src to have a size equal to the slice of self. src "
                               f"size = {list(src.shape)}, slice size = {list(picked)}")
        src = src if src.dtype == self.dtype else src.to(self.dtype)
        if moved_to is not None:
            src = src.movedim(-1, moved_to)
        return _ops().shape.SetItem.apply(self, src, index=index)

    def slice_scatter(self, src, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
        """y = self with y[…, start:end:step, …] = src along ``dim``."""
        axis = _dim(dim, self.ndim)
        if step <= 0:
            raise RuntimeError("slice step must be positive")
        cut = slice(start, end, step)
        picked = list(self.shape)
        picked[axis] = len(range(*cut.indices(self.shape[axis])))
        return self._scatter_into(src, _along(self.ndim, axis, cut), picked, "slice_scatter")

    def select_scatter(self, src, dim: int, index: int) -> Tensor:
        """y = self with y[…, index, …] = src along ``dim`` (src has one axis fewer)."""
        axis = _dim(dim, self.ndim)
        size = self.shape[axis]
        if not -size <= index < size:
            raise IndexError(f"select(): index {index} out of range for tensor of size "
                             f"{list(self.shape)} at dimension {axis}")
        picked = self.shape[:axis] + self.shape[axis + 1:]
        return self._scatter_into(src, _along(self.ndim, axis, index), picked, "select_scatter")

    def diagonal_scatter(self, src, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """y = self with y.diagonal(offset, dim1, dim2) = src (the diagonal as src's last axis,
        the other axes in order)."""
        a, b = _dim(dim1, self.ndim), _dim(dim2, self.ndim)
        if a == b:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        length = max(min(self.shape[a] - max(-offset, 0), self.shape[b] - max(offset, 0)), 0)
        steps = np.arange(length)
        index = [slice(None)] * self.ndim
        index[a], index[b] = steps + max(-offset, 0), steps + max(offset, 0)
        picked = tuple(n for d, n in enumerate(self.shape) if d not in (a, b)) + (length,)
        # NumPy puts the axis of the two index arrays where they stand when they are adjacent,
        # else first; the diagonal is src's last axis
        moved_to = min(a, b) if abs(a - b) == 1 else 0
        return self._scatter_into(src, tuple(index), picked, "diagonal_scatter", moved_to)

    # ----- in place ---------------------------------------------------------------------
    def index_put_(self, indices, values, accumulate: bool = False) -> Tensor:
        return self._inplace(lambda t, v: t.index_put(indices, v, accumulate), values)

    def masked_scatter_(self, mask, source) -> Tensor:
        return self._inplace(lambda t, s: t.masked_scatter(mask, s), source)

    def scatter_reduce_(self, dim: int, index, src, reduce: str, *,
                        include_self: bool = True) -> Tensor:
        return self._inplace(lambda t, s: t.scatter_reduce(dim, index, s, reduce,
                                                           include_self=include_self), src)

    def put_(self, index, source, accumulate: bool = False) -> Tensor:
        return self._inplace(lambda t, s: t.put(index, s, accumulate), source)
