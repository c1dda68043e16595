"""Tensor methods that write into positions: ``scatter``, ``scatter_add``, ``index_add``,
``index_copy``, ``index_fill`` and their in-place forms, checked as torch checks them; the
additions through ``ffnn.ops.scatter_more.ScatterAdd`` (its gradient an index), the rest
composed from indexing and ``where``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ffnn.tensor import Tensor

from ffnn.tensor_arrays import _along, _array, _dim, _ops, _plain, _tensor_cls


class ScatterTensorMethods:
    """Mixed into ``ffnn.Tensor``; ``self`` is a Tensor."""

    def _scatter_where(self, dim: int, index, src_shape, name: str) -> tuple:
        """The NumPy index of the entries ``scatter`` writes: index[i…] along ``dim``, i
        elsewhere; checked as torch checks it."""
        index = _array(index)
        axis = _dim(dim, self.ndim)
        if index.dtype.kind not in "iu":
            raise RuntimeError(f"{name}(): Expected dtype int64 for index")
        if index.ndim != self.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as self "
                               "tensor")
        src_shape = index.shape if src_shape is None else src_shape
        if any(i > s or (d != axis and i > n) for d, (i, s, n) in
               enumerate(zip(index.shape, src_shape, self.shape))):
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                               f"{list(self.shape)} apart from dimension {axis} and to be no "
                               f"larger size than src {list(src_shape)}")
        _check_bounds(index, self.shape[axis], axis)
        parts = list(np.indices(index.shape, sparse=True))
        parts[axis] = index.astype(np.int64)
        return tuple(parts)

    def _scatter_source(self, where: tuple, src, name: str):
        """``src`` cut to the index's region, or a number as a constant of that shape."""
        shape = np.broadcast_shapes(*(p.shape for p in where))
        if not isinstance(src, _tensor_cls()):
            return _plain(np.full(shape, src, self.dtype))
        if src.dtype != self.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        return src if tuple(src.shape) == shape else src[tuple(slice(0, n) for n in shape)]

    def scatter(self, dim: int, index, src=None, value=None, *, reduce=None) -> Tensor:
        """y = self with y[…, index[i…], …] = src[i…] along ``dim`` (the other axes at i);
        dL/dself = dL/dy where not written, dL/dsrc = dL/dy at the written entries.
        ``reduce='add'|'multiply'`` combines instead of writing (no gradient, as torch:
        RuntimeError where one is needed)."""
        src = value if src is None else src
        if src is None:
            raise TypeError("scatter() missing 1 required positional argument: 'src' or "
                            "'value'")
        shape = tuple(src.shape) if isinstance(src, _tensor_cls()) else None
        where = self._scatter_where(dim, index, shape, "scatter")
        values = self._scatter_source(where, src, "scatter")
        if reduce is None:
            return _ops().shape.SetItem.apply(self, values, index=where)
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if self._needs_graph(src):  # torch fails in backward; a result cut from the graph
            raise RuntimeError(   # would give silently wrong gradients instead
                "derivative for aten::scatter with reduce is not implemented: call it under "
                "no_grad() or on tensors that do not require grad")
        out = self.numpy().copy()
        (np.add if reduce == "add" else np.multiply).at(out, where, values.numpy())
        return _plain(out)

    def scatter_add(self, dim: int, index, src) -> Tensor:
        """y = self with src[i…] added at […, index[i…], …] along ``dim``, repeats adding up;
        dL/dself = dL/dy, dL/dsrc = dL/dy at the entries added to."""
        from ffnn.ops.scatter_more import ScatterAdd

        if not isinstance(src, _tensor_cls()):
            raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not "
                            f"{type(src).__name__}")
        where = self._scatter_where(dim, index, tuple(src.shape), "scatter_add")
        return ScatterAdd.apply(self, self._scatter_source(where, src, "scatter_add"),
                                index=where)

    def _index_vector(self, dim: int, index, name: str, negative: bool = False) -> tuple:
        """(axis, the 1-d int64 index along it), checked as torch's index_* check it."""
        index = _array(index)
        axis = _dim(dim, self.ndim)
        if index.dtype.kind not in "iu":
            raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: "
                               f"{index.dtype}")
        if index.ndim > 1:
            raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: "
                             f"{index.ndim} with size: {list(index.shape)}")
        index = index.reshape(-1).astype(np.int64)
        size = self.shape[axis]
        _check_bounds(np.where(index < 0, index + size, index) if negative else index, size, axis)
        return axis, index

    def _index_source(self, axis: int, index: np.ndarray, source, name: str):
        if source.dtype != self.dtype:
            raise RuntimeError(f"{name}(): self ({self.dtype}) and source ({source.dtype}) "
                               "must have the same scalar type")
        expected = self.shape[:axis] + (len(index),) + self.shape[axis + 1:]
        if tuple(source.shape) != expected:
            raise RuntimeError(f"{name}(): Number of indices ({len(index)}) should be equal "
                               f"to source.size(dim) and the other sizes of source "
                               f"{list(source.shape)} those of self {list(self.shape)}, for "
                               f"dim: {axis}")
        return source

    def index_add(self, dim: int, index, source, *, alpha=1) -> Tensor:
        """y = self with alpha·source added at the slices ``index`` along ``dim`` (repeats
        add up); dL/dself = dL/dy, dL/dsource = alpha · dL/dy at those slices."""
        from ffnn.ops.scatter_more import ScatterAdd

        axis, index = self._index_vector(dim, index, "index_add_")
        source = self._index_source(axis, index, source, "index_add_")
        return ScatterAdd.apply(self, source if alpha == 1 else source * alpha,
                                index=_along(self.ndim, axis, index))

    def index_copy(self, dim: int, index, source) -> Tensor:
        """y = self with the slices ``index`` along ``dim`` replaced by source's slices."""
        axis, index = self._index_vector(dim, index, "index_copy_")
        source = self._index_source(axis, index, source, "index_copy_")
        return _ops().shape.SetItem.apply(self, source, index=_along(self.ndim, axis, index))

    def index_fill(self, dim: int, index, value) -> Tensor:
        """y = self with the slices ``index`` along ``dim`` set to ``value`` (a number or a
        0-d tensor, which gets the sum of their gradients)."""
        axis, index = self._index_vector(dim, index, "index_fill_", negative=True)
        if isinstance(value, _tensor_cls()):
            if value.ndim:
                raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, "
                                   f"but got tensor with {value.ndim} dimension(s).")
            value = value.to(self.dtype)
        else:
            value = _plain(value, self.dtype)
        return _ops().shape.SetItem.apply(self, value, index=_along(self.ndim, axis, index))

    def scatter_(self, dim: int, index, src=None, value=None, *, reduce=None) -> Tensor:
        return self._inplace(lambda t, s: t.scatter(dim, index, s, reduce=reduce),
                             value if src is None else src)

    def scatter_add_(self, dim: int, index, src) -> Tensor:
        return self._inplace(lambda t, s: t.scatter_add(dim, index, s), src)

    def index_add_(self, dim: int, index, source, *, alpha=1) -> Tensor:
        return self._inplace(lambda t, s: t.index_add(dim, index, s, alpha=alpha), source)

    def index_copy_(self, dim: int, index, source) -> Tensor:
        return self._inplace(lambda t, s: t.index_copy(dim, index, s), source)

    def index_fill_(self, dim: int, index, value) -> Tensor:
        return self._inplace(lambda t, v: t.index_fill(dim, index, v), value)


def _check_bounds(index: np.ndarray, size: int, axis: int) -> None:
    """torch's RuntimeError for the first index outside [0, size)."""
    outside = (index < 0) | (index >= size)
    if outside.any():
        raise RuntimeError(f"index {index[outside].flat[0]} is out of bounds for dimension "
                           f"{axis} with size {size}")
