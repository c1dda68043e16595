"""Tensor methods that rearrange arrays beyond the common ones (tile, diagonal, rot90, kron,
cross, take, tensor_split …; ``ffnn.functions_arrays`` has their function forms), and the
helpers ``tensor_scatter`` and ``tensor_statistics`` share.

Each is composed from the differentiable ops (indexing, reshape, permute, where, sums …), so
gradients, and their gradients, follow as torch's do.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ffnn.tensor import Tensor


def _tensor_cls():
    from ffnn.tensor import Tensor

    return Tensor


def _ops():
    from ffnn import ops

    return ops


def _plain(values, dtype=None):
    """A tensor of ``values`` outside any graph."""
    return _tensor_cls()._make(np.asarray(values, dtype), False, None)


def _array(x) -> np.ndarray:
    return x.numpy() if isinstance(x, _tensor_cls()) else np.asarray(x)


def _dim(dim: int, ndim: int) -> int:
    from ffnn.ops.reductions import normalize_dim

    return normalize_dim(dim, ndim)


def _one_of(*given):
    """The one argument given among torch's names for it (None when none is)."""
    chosen = [g for g in given if g is not None]
    if len(chosen) > 1:
        raise TypeError(f"the sections or indices were given twice. Received: {chosen}")
    return chosen[0] if chosen else None


def _along(ndim: int, axis: int, index) -> tuple:
    """An index that applies ``index`` along ``axis`` and takes all of the other axes."""
    return (slice(None),) * axis + (index,)


def _take(x, index: np.ndarray, dim: int = -1):
    """out[…, j, …] = x[…, index[…, j, …], …] along ``dim`` (torch.gather); ``index`` may
    have more axes than x in front (one gather for each). By indexing, so that gradients and
    their gradients follow."""
    dim = _dim(dim, x.ndim)
    extra = index.ndim - x.ndim
    parts = []
    for axis, size in enumerate(x.shape):
        if axis == dim:
            parts.append(index)
            continue
        shape = [1] * index.ndim
        shape[axis + extra] = size
        parts.append(np.arange(size).reshape(shape))
    return x[tuple(parts)]



class ArrayTensorMethods:
    """Mixed into ``ffnn.Tensor``; ``self`` is a Tensor."""

    # ----- shapes ---------------------------------------------------------------------
    def tile(self, *args, dims=None) -> Tensor:
        """The tensor repeated ``dims[i]`` times along each axis (ones prepended to ``dims``
        when it is shorter than the shape)."""
        from ffnn.tensor import _shape_args

        dims = _shape_args(args, dims)
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def ravel(self) -> Tensor:
        return self.reshape(-1)

    def moveaxis(self, source, destination) -> Tensor:
        """Axes ``source`` moved to positions ``destination`` (ints or sequences), the others
        keeping their order (torch.movedim)."""
        sources = (source,) if isinstance(source, int) else tuple(source)
        targets = (destination,) if isinstance(destination, int) else tuple(destination)
        if len(sources) != len(targets):
            raise RuntimeError(f"movedim: Invalid source or destination dims: source "
                               f"({list(sources)} dims) should contain the same number of "
                               f"dims as destination ({list(targets)} dims)")
        sources = [_dim(d, self.ndim) for d in sources]
        targets = [_dim(d, self.ndim) for d in targets]
        if len(set(sources)) != len(sources) or len(set(targets)) != len(targets):
            raise RuntimeError(f"movedim: repeated dim in source ({sources}) or destination "
                               f"({targets})")
        order = [d for d in range(self.ndim) if d not in sources]
        for target, source in sorted(zip(targets, sources)):
            order.insert(target, source)
        return self.permute(order)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        return self.transpose(dim0, dim1)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return self.transpose(axis0, axis1)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The entries x[…, i, …, i + offset, …] of the (dim1, dim2) planes, as a last axis
        (the other axes in order)."""
        a, b = _dim(dim1, self.ndim), _dim(dim2, self.ndim)
        if a == b:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        planes = self.moveaxis((a, b), (-2, -1))
        rows, cols = planes.shape[-2:]
        start_row, start_col = max(-offset, 0), max(offset, 0)
        steps = np.arange(max(min(rows - start_row, cols - start_col), 0))
        index = (Ellipsis, steps + start_row, steps + start_col)
        out = _ops().shape.Diagonal.apply(planes, index=index)
        if np.shares_memory(out._data, planes._data):  # a view, as torch's: writes reach self
            out._version_box, out._view_seen = planes._version_box, planes._version_box[0]
            out._view_of, out._view_made = (planes, index), (_ops().shape.Diagonal,
                                                             {"index": index})
        return out

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """Each last-axis vector on the ``offset`` diagonal of a square matrix filling the
        (dim1, dim2) planes of a tensor with one more axis; zeros elsewhere."""
        a, b = _dim(dim1, self.ndim + 1), _dim(dim2, self.ndim + 1)
        if a == b:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        length = self.shape[-1] if self.ndim else 1
        size, steps = length + abs(offset), np.arange(length)
        out = self.new_zeros(*self.shape[:-1], size, size)
        where = (Ellipsis, steps + max(-offset, 0), steps + max(offset, 0))
        out = _ops().shape.SetItem.apply(out, self.reshape(*self.shape[:-1], length), index=where)
        return out.moveaxis((-2, -1), (a, b))

    def fliplr(self) -> Tensor:
        if self.ndim < 2:
            raise RuntimeError("Input must be >= 2-d.")
        return self.flip(1)

    def flipud(self) -> Tensor:
        if self.ndim < 1:
            raise RuntimeError("Input must be >= 1-d.")
        return self.flip(0)

    def rot90(self, k: int = 1, dims=(0, 1)) -> Tensor:
        """Rotated by 90° ``k`` times in the plane of ``dims``, from the first towards the
        second axis."""
        if len(dims) != 2:
            raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
        if self.ndim < 2:
            raise RuntimeError(f"expected total dims >= 2, but got total dims = {self.ndim}")
        first, second = (_dim(d, self.ndim) for d in dims)
        if first == second:
            raise RuntimeError(f"expected rotation dims to be different, but got dim0 = "
                               f"{first} and dim1 = {second}")
        k %= 4
        if k == 1:
            return self.flip(second).transpose(first, second)
        if k == 2:
            return self.flip(first, second)
        return self.flip(first).transpose(first, second) if k == 3 else self.clone()

    def unflatten(self, dim: int, sizes) -> Tensor:
        """Axis ``dim`` split into axes of ``sizes`` (one may be -1)."""
        axis, sizes = _dim(dim, self.ndim), tuple(sizes)
        known = math.prod(n for n in sizes if n != -1)
        if sizes.count(-1) > 1 or (-1 not in sizes and known != self.shape[axis]) or (
                -1 in sizes and (known == 0 or self.shape[axis] % known)):
            raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                               f"the size of dim {dim} ({self.shape[axis]}) in the input tensor")
        return self.reshape(self.shape[:axis] + sizes + self.shape[axis + 1:])

    def kron(self, other) -> Tensor:
        """The Kronecker product: out[i·m + j] = self[i] · other[j] on each axis (the shorter
        shape padded with leading ones)."""
        ndim = max(self.ndim, other.ndim)
        a = self.reshape((1,) * (ndim - self.ndim) + tuple(self.shape))
        b = other.reshape((1,) * (ndim - other.ndim) + tuple(other.shape))
        spread_a = tuple(n for size in a.shape for n in (size, 1))
        spread_b = tuple(n for size in b.shape for n in (1, size))
        product = a.reshape(spread_a) * b.reshape(spread_b)
        return product.reshape(tuple(m * n for m, n in zip(a.shape, b.shape)))

    def cross(self, other, dim=None) -> Tensor:
        """The cross product a × b of 3-vectors along ``dim`` (broadcast; when None, the first
        axis of size 3, as torch.cross): (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂, a₀b₁ − a₁b₀)."""
        if self.ndim != other.ndim:
            raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
        shape = np.broadcast_shapes(tuple(self.shape), tuple(other.shape))
        a, b = self.expand(shape), other.expand(shape)
        if dim is None:
            dim = next((d for d, n in enumerate(shape) if n == 3), None)
            if dim is None:
                raise RuntimeError("no dimension of size 3 in input")
        axis = _dim(dim, len(shape))
        if shape[axis] != 3:
            raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. "
                               f"Got {self.shape[axis]} and {other.shape[axis]}")
        a0, a1, a2 = (a.select(axis, i) for i in range(3))
        b0, b1, b2 = (b.select(axis, i) for i in range(3))
        return _ops().stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis)

    # ----- splitting ------------------------------------------------------------------
    def tensor_split(self, indices_or_sections=None, dim: int = 0, *, sections=None,
                     indices=None, tensor_indices_or_sections=None) -> tuple:
        """Views along ``dim``: ``n`` near-equal pieces (the first n mod size one longer), or
        pieces cut before each of the given indices (by position, or by torch's keywords)."""
        axis, length = _dim(dim, self.ndim), self.shape[dim]
        cuts = _one_of(indices_or_sections, sections, indices, tensor_indices_or_sections)
        if isinstance(cuts, _tensor_cls()):
            cuts = cuts.tolist() if cuts.ndim else cuts.item()
        if isinstance(cuts, int):
            if cuts <= 0:
                raise RuntimeError(f"number of sections must be larger than 0, got {cuts}")
            size, extra = divmod(length, cuts)
            cuts = list(np.cumsum([size + 1] * extra + [size] * (cuts - extra))[:-1])
        bounds = [0, *(min(max(int(c) if c >= 0 else int(c) + length, 0), length)
                       for c in cuts), length]
        return tuple(self[_along(self.ndim, axis, slice(lo, max(lo, hi)))]
                     for lo, hi in zip(bounds, bounds[1:]))

    def _split_by(self, sections, dim: int, name: str, least: int) -> tuple:
        if sections is None:
            raise TypeError(f"{name}() needs the sections (an int) or the indices (a list)")
        if self.ndim < least:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {least} "
                               f"dimension, but got a tensor with {self.ndim} dimensions!")
        if isinstance(sections, int) and (sections == 0 or self.shape[dim] % sections):
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but "
                               f"the size of the dimension {self.shape[dim]} is not divisible "
                               f"by the split_size {sections}!")
        return self.tensor_split(sections, dim)

    def hsplit(self, indices_or_sections=None, *, sections=None, indices=None) -> tuple:
        return self._split_by(_one_of(indices_or_sections, sections, indices),
                              1 if self.ndim > 1 else 0, "hsplit", 1)

    def vsplit(self, indices_or_sections=None, *, sections=None, indices=None) -> tuple:
        return self._split_by(_one_of(indices_or_sections, sections, indices), 0, "vsplit", 2)

    def dsplit(self, indices_or_sections=None, *, sections=None, indices=None) -> tuple:
        return self._split_by(_one_of(indices_or_sections, sections, indices), 2, "dsplit", 3)

    # ----- picking ----------------------------------------------------------------------
    def take(self, index) -> Tensor:
        """The entries of the flattened tensor at ``index`` (any shape)."""
        index = _array(index)
        if index.dtype.kind not in "iu":
            raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
        n = self.numel()
        if index.size and (index.min() < -n or index.max() >= n):
            bad = index[(index < -n) | (index >= n)].flat[0]
            raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                             "elements.")
        return self.reshape(-1)[index.astype(np.int64)]

    def take_along_dim(self, indices, dim=None) -> Tensor:
        """torch.gather with ``indices`` and self broadcast against each other except along
        ``dim`` (both flattened when None)."""
        index = _array(indices)
        if index.dtype.kind not in "iu":
            raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be int64 but "
                               f"got {index.dtype}")
        if dim is None:
            return _take(self.reshape(-1), index.reshape(-1).astype(np.int64), 0)
        axis = _dim(dim, self.ndim)
        if index.ndim != self.ndim:
            raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                               f"number of dimensions, but got {self.ndim} dimensions for "
                               f"input, and {index.ndim} dimensions for indices")
        shape = list(np.broadcast_shapes(
            tuple(1 if d == axis else n for d, n in enumerate(self.shape)),
            tuple(1 if d == axis else n for d, n in enumerate(index.shape))))
        x = self.expand(shape[:axis] + [self.shape[axis]] + shape[axis + 1:])
        index = np.broadcast_to(index, tuple(shape[:axis] + [index.shape[axis]]
                                             + shape[axis + 1:]))
        return _take(x, np.where(index < 0, index + self.shape[axis], index), axis)

    def is_nonzero(self) -> bool:
        """The truth of a one-element tensor."""
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with "
                               f"{'no values' if self.numel() == 0 else 'more than one value'}"
                               " is ambiguous")
        return bool(self.numpy().reshape(-1)[0])
