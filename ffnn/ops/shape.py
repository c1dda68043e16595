"""Ops that move data without arithmetic: reshape, permute, expand, indexing, concatenation."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Function
from ffnn.backend import xp
from ffnn.ops.elementwise import unbroadcast


class Reshape(Function):
    """y = x viewed with a new shape;  dL/dx = dL/dy reshaped back."""

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


class Permute(Function):
    """y = x with axes reordered (a view, no copy);  dL/dx = dL/dy with the inverse order."""

    def forward(self, x, dims):
        self.inverse = tuple(np.argsort([d % x.ndim for d in dims]))
        return x.transpose(dims)

    def backward(self, grad):
        return (grad.transpose(self.inverse),)


class Expand(Function):
    """y = x broadcast to a larger shape (a view);  dL/dx = dL/dy summed back."""

    def forward(self, x, shape):
        self.shape = x.shape
        shape = tuple(x.shape[i - len(shape) + x.ndim] if n == -1 else n
                      for i, n in enumerate(shape))
        return xp(x).broadcast_to(x, shape)

    def backward(self, grad):
        return (unbroadcast(grad, self.shape),)


class GetItem(Function):
    """y = x[index];  dL/dx = zeros with dL/dy scattered back (added for repeated indices)."""

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, grad):
        m = xp(grad)
        out = m.zeros(self.shape, dtype=grad.dtype)
        if _is_basic(self.index):  # slices and ints never repeat an element
            out[self.index] = grad
        else:
            m.add.at(out, self.index, grad)
        return (out,)


def _is_basic(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in parts)


class Concatenate(Function):
    """y = [x₁, x₂, …] joined along ``dim``;  dL/dxᵢ = the matching slice of dL/dy."""

    def forward(self, *xs, dim=0):
        self.dim = dim
        self.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return xp(*xs).concatenate(xs, axis=dim)

    def backward(self, grad):
        return tuple(xp(grad).split(grad, self.bounds, axis=self.dim))


class Stack(Function):
    """y = [x₁, x₂, …] stacked on a new axis ``dim``;  dL/dxᵢ = dL/dy[…, i, …]."""

    def forward(self, *xs, dim=0):
        self.dim = dim
        return xp(*xs).stack(xs, axis=dim)

    def backward(self, grad):
        return tuple(xp(grad).moveaxis(grad, self.dim, 0))


class Gather(Function):
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
        return xp(x).take_along_axis(x[region], index, axis=dim)

    def backward(self, grad):
        m = xp(grad)
        out = m.zeros(self.shape, dtype=grad.dtype)
        positions = list(m.indices(self.index.shape, sparse=True))
        positions[self.dim] = self.index
        m.add.at(out, tuple(positions), grad)
        return (out,)
