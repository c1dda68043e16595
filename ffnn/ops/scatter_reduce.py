"""``ScatterReduce``: each position of x reduced with the src entries scattered to it
(``scatter_reduce``: sum, prod, mean, amax, amin), with torch's gradients."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.ops.elementwise import constant_like
from ffnn.ops.shape import GetItem

_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
           "amin": np.minimum}


def _identity(dtype, reduce: str):
    """The start of a reduction that leaves x out: 0, 1, the lowest or the highest value."""
    if reduce in ("sum", "mean", "prod"):
        return 1 if reduce == "prod" else 0
    if dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:
        return reduce == "amin"  # bool: False is the lowest, True the highest
    return info.min if reduce == "amax" else info.max


def counts(x, index, include_self: bool):
    """N[p] = [include_self] + #{i : index(i) = p}, 1 where that is 0 (the mean's divisor)."""
    n = np.full(x.shape, 1 if include_self else 0, x.dtype)
    np.add.at(n, index, 1)
    n[n == 0] = 1
    return n


def scatter_reduce(x, src, index, reduce: str, include_self: bool):
    """y[p] = reduce({x[p] if include_self} ∪ {src[i] : index(i) = p}), y[p] = x[p] where
    nothing is scattered; the mean of integers rounds down, as torch's."""
    out = x.copy()
    if not include_self:
        out[index] = _identity(x.dtype, reduce)
    _UFUNCS[reduce].at(out, index, src)
    if reduce != "mean":
        return out
    n = counts(x, index, include_self)
    return out / n if x.dtype.kind == "f" else np.floor_divide(out, n)


class ScatterReduce(Op):
    """y = scatter_reduce(x, src) at ``index`` (a NumPy index whose selection has src's
    shape), with torch's gradients (``scatter_reduce_backward``), g = dL/dy:

    sum: dL/dx = g, dL/dsrc = g[index];  mean: dL/dx = g / N, dL/dsrc = (g / N)[index];
    amax/amin: g split evenly over the entries equal to y[p] (x and src);  prod:
    dL/dx = g · y / x, dL/dsrc = (g · y)[index] / src, by exclusive products where entries
    are 0. Without include_self, dL/dx = 0 where anything was scattered."""

    def forward(self, x, src, index, reduce="sum", include_self=True):
        self.index, self.reduce, self.include_self = index, reduce, include_self
        out = scatter_reduce(x, src, index, reduce, include_self)
        if any(self.needs_input_grad):
            self.x, self.src, self.out = x, src, out
        return out

    def _weights(self):
        """(w_x, w_g, w_src): dL/dx = g · w_x, dL/dsrc = (g · w_g)[index] · w_src."""
        x, src, out, index = self.x, self.src, self.out, self.index
        if self.reduce == "sum":
            return 1, 1, 1
        if self.reduce == "mean":
            spread = 1 / counts(x, index, self.include_self)
            return spread, spread, 1
        x_hit = (x == out).astype(x.dtype)
        src_hit = (src == out[index]).astype(x.dtype)
        shared = x_hit.copy()
        np.add.at(shared, index, src_hit)
        return x_hit / shared, 1 / shared, src_hit

    def _prod_grads(self, grad):
        """torch's prod gradient: exclusive products where x or a single src entry is 0."""
        x, src, out, index = self.x, self.src, self.out, self.index
        x_ones = np.where(x == 0, 1, x)
        grad_x = grad * scatter_reduce(x_ones, src, index, "prod", self.include_self) / x_ones
        src_zero = src == 0
        zeros_at = np.zeros(x.shape, np.int64)
        np.add.at(zeros_at, index, src_zero)
        single_zero = src_zero & (zeros_at[index] == 1)
        others = scatter_reduce(x, np.where(single_zero, 1, src), index, "prod",
                                self.include_self)
        grad_src = np.where(single_zero, (grad * others)[index],
                            (grad * out)[index] / np.where(src_zero, 1, src))
        return grad_x, grad_src

    def backward(self, grad):
        if self.reduce == "prod":
            grad_x, grad_src = self._prod_grads(grad)
        else:
            w_x, w_g, w_src = self._weights()
            grad_x = grad * w_x
            grad_src = (grad * w_g)[self.index] * w_src
        if not self.include_self:  # grad_x is a new array: grad times a weight
            grad_x[self.index] = 0
        return (grad_x if self.needs_input_grad[0] else None,
                grad_src if self.needs_input_grad[1] else None)

    def backward_graph(self, grad, x, src):
        """The gradient is linear in g with weights that are constant almost everywhere, except
        for prod, whose weights depend on x and src."""
        if self.reduce == "prod":
            raise NotImplementedError(
                "create_graph=True: the gradient of scatter_reduce(reduce='prod') cannot be "
                "differentiated again in ffnn")
        w_x, w_g, w_src = (constant_like(grad, w) for w in self._weights())
        if not self.include_self:
            kept = np.ones(grad.shape)
            kept[self.index] = 0
            w_x = w_x * constant_like(grad, kept)
        grad_x = grad * w_x if self.needs_input_grad[0] else None
        grad_src = (GetItem.apply(grad * w_g, index=self.index) * w_src
                    if self.needs_input_grad[1] else None)
        return grad_x, grad_src
