"""Ops that move data without arithmetic: reshape, permute, expand, indexing, concatenation."""

from __future__ import annotations

import math

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.errors import RuntimeIndexError
from ffnn.ops import scatter
from ffnn.ops.elementwise import constant_like, unbroadcast, unbroadcast_graph
from ffnn.region_gradient import Region


class Reshape(Op):
    """y = x viewed with a new shape;  dL/dx = dL/dy reshaped back."""

    may_save_nothing = True

    view_op = True

    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"shape {tuple(shape)} is invalid for input of shape {x.shape} "
                f"({x.size} elements)"
            ) from None

    def backward(self, grad):
        return (grad.reshape(self.shape),)

    def backward_graph(self, grad, x):
        return (grad.reshape(tuple(x.shape)),)


class FlattenFeatures(Op):
    """y = x [n, d₁, …, dₖ] as [n, d₁···dₖ] (``nn.Flatten()``'s default dims, a view where x
    is contiguous);  dL/dx = dL/dy reshaped back. The chain replays (``nn.chain_layers``)
    take it as a network's first layer."""

    def forward(self, x):
        self.shape = x.shape
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def backward(self, grad):
        return (grad.reshape(self.shape),)

    def backward_graph(self, grad, x):
        return (grad.reshape(tuple(x.shape)),)


class Permute(Op):
    """y = x with axes reordered (a view, no copy);  dL/dx = dL/dy with the inverse order."""

    may_save_nothing = True

    view_op = True

    def forward(self, x, dims):
        self.inverse = tuple(np.argsort([d % x.ndim for d in dims]))
        return x.transpose(dims)

    def backward(self, grad):
        return (grad.transpose(self.inverse),)

    def backward_graph(self, grad, x):
        return (Permute.apply(grad, dims=self.inverse),)


class Expand(Op):
    """y = x broadcast to a larger shape (a view);  dL/dx = dL/dy summed back."""

    may_save_nothing = True

    view_op = True

    def forward(self, x, shape):
        self.shape = x.shape
        shape = tuple(x.shape[i - len(shape) + x.ndim] if n == -1 else n
                      for i, n in enumerate(shape))
        return xp(x).broadcast_to(x, shape)

    def backward(self, grad):
        return (unbroadcast(grad, self.shape),)

    def backward_graph(self, grad, x):
        return (unbroadcast_graph(grad, tuple(x.shape)),)


class GetItem(Op):
    """y = x[index];  dL/dx = zeros with dL/dy scattered back (added for repeated indices)."""

    may_save_nothing = True

    view_op = True
    regional = True

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward_region(self, grad):
        """A basic index's gradient, written out only once all pieces are in
        (``ffnn.region_gradient``)."""
        return Region(self.shape, self.dtype, self.index, grad) if _is_basic(self.index) \
            else None

    def backward(self, grad):
        m = xp(grad)
        out = m.zeros(self.shape, dtype=grad.dtype)
        if _is_basic(self.index):  # slices and ints never repeat an element
            out[self.index] = grad
        else:
            scatter.add_at(out, self.index, grad)
        return (out,)

    def backward_graph(self, grad, x):
        if not _is_basic(self.index):
            hits = np.zeros(self.shape, dtype=np.intp)
            np.add.at(hits, self.index, 1)
            if hits.max(initial=0) > 1:
                raise NotImplementedError(
                    "create_graph=True: the gradient of an index that picks an element twice "
                    "cannot be differentiated again in ffnn")
        zeros = constant_like(grad, np.zeros(self.shape))
        return (SetItem.apply(zeros, grad, index=self.index),)


class Diagonal(GetItem):
    """y = the diagonal x[..., r0 + i, c0 + i] of the last two axes, as a view of x's memory
    (torch's ``diagonal`` is a view: ``A.diagonal().add_(eps)`` changes A); ``index`` is
    (Ellipsis, rows, cols), which the gradient and an in-place change through y use."""

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        rows, cols = index[1], index[2]
        if rows.size == 0 or not isinstance(x, np.ndarray):
            return x[index]
        corner = x[..., int(rows[0]):, int(cols[0]):]
        step = corner.strides[-2] + corner.strides[-1]
        return np.lib.stride_tricks.as_strided(
            corner, shape=x.shape[:-2] + (rows.size,), strides=corner.strides[:-2] + (step,))


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in parts)


class SetItem(Op):
    """y = x with y[index] = v;  dL/dx = dL/dy with [index] zeroed,  dL/dv = dL/dy[index]
    (summed back to v's shape). With ``write=False`` the caller has already written v into
    x's memory and the op only records the graph."""

    def forward(self, x, v, index, write=True):
        self.index, self.v_shape = index, v.shape
        if not write:
            return x
        out = x.copy()
        out[index] = v
        return out

    def backward(self, grad):
        grad_x = grad_v = None
        if self.needs_input_grad[0]:
            grad_x = grad.copy()
            grad_x[self.index] = 0
        if self.needs_input_grad[1]:
            picked = grad[self.index]
            grad_v = unbroadcast(picked, self.v_shape) if picked.ndim >= len(self.v_shape) \
                else picked.reshape(self.v_shape)
        return grad_x, grad_v

    def backward_graph(self, grad, x, v):
        grad_x = grad_v = None
        if self.needs_input_grad[0]:
            kept = np.ones(x.shape)
            kept[self.index] = 0
            grad_x = grad * constant_like(grad, kept)
        if self.needs_input_grad[1]:
            picked = GetItem.apply(grad, index=self.index)
            grad_v = unbroadcast_graph(picked, self.v_shape) if picked.ndim >= len(self.v_shape) \
                else picked.reshape(self.v_shape)
        return grad_x, grad_v


class ViewBase(Op):
    """The base x of a view v = f(x) that covers it all (a ``Reshape`` or ``Permute``),
    after v changed in place: x = f⁻¹(v);  dL/dv = f(dL/dx) (``made``: f's op class and
    options). The memory is shared, so the op only records the graph (``base``: x's array,
    already holding v's new values)."""

    def forward(self, v, made, base):
        self.made = made
        return base

    def backward(self, grad):
        op, options = self.made
        return (op().forward(grad, **options),)

    def backward_graph(self, grad, v):
        op, options = self.made
        return (op.apply(grad, **options),)


class Concatenate(Op):
    """y = [x₁, x₂, …] joined along ``dim``;  dL/dxᵢ = the matching slice of dL/dy."""

    may_save_nothing = True

    def forward(self, *xs, dim=0):
        self.dim = dim
        self.bounds = tuple(int(b) for b in np.cumsum([x.shape[dim] for x in xs])[:-1])
        return xp(*xs).concatenate(xs, axis=dim)

    def backward(self, grad):
        return tuple(xp(grad).split(grad, self.bounds, axis=self.dim))

    def backward_graph(self, grad, *xs):
        bounds = [0, *self.bounds, grad.shape[self.dim]]
        lead = (slice(None),) * (self.dim % grad.ndim)
        return tuple(GetItem.apply(grad, index=(*lead, slice(int(lo), int(hi))))
                     for lo, hi in zip(bounds, bounds[1:]))


class Stack(Op):
    """y = [x₁, x₂, …] stacked on a new axis ``dim``;  dL/dxᵢ = dL/dy[…, i, …]."""

    def forward(self, *xs, dim=0):
        self.dim = dim
        return xp(*xs).stack(xs, axis=dim)

    def backward(self, grad):
        return tuple(xp(grad).moveaxis(grad, self.dim, 0))

    def backward_graph(self, grad, *xs):
        lead = (slice(None),) * (self.dim % grad.ndim)
        return tuple(GetItem.apply(grad, index=(*lead, i)) for i in range(len(xs)))


class Gather(Op):
    """y[i][j] = x[i][index[i][j]] along ``dim`` (torch.gather; ``index`` may be smaller than
    ``x`` on the other axes);  dL/dx = dL/dy added back at the gathered positions."""

    def forward(self, x, index, dim):
        dim = dim % x.ndim
        if index.ndim != x.ndim:
            raise RuntimeError(f"gather: index must have as many dimensions as the input "
                               f"({x.ndim}). Received: index of shape {index.shape}")
        region = tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))
        self.shape, self.region, self.dim = x.shape, region, dim
        self.index = index
        try:
            return xp(x).take_along_axis(x[region], index, axis=dim)
        except IndexError as error:  # torch's RuntimeError, still an IndexError
            raise RuntimeIndexError(str(error).replace("axis", "dimension")) from None

    def backward(self, grad):
        m = xp(grad)
        out = m.zeros(self.shape, dtype=grad.dtype)
        positions = list(m.indices(self.index.shape, sparse=True))
        positions[self.dim] = self.index
        scatter.add_at(out, tuple(positions), grad)
        return (out,)

    def backward_graph(self, grad, x):
        """dL/dy added into zeros at the gathered positions, as a recorded ``ScatterAdd``."""
        from ffnn.ops.scatter_more import ScatterAdd  # noqa: PLC0415 - it imports this module

        m = xp(x._data)
        positions = list(m.indices(self.index.shape, sparse=True))
        positions[self.dim] = self.index
        zeros = constant_like(x, m.zeros(self.shape, dtype=x.dtype))
        return (ScatterAdd.apply(zeros, grad, index=tuple(positions)),)
