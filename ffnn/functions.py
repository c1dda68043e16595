"""The ``torch.*`` function forms of tensor methods: ``torch.sin(x)``, ``torch.max(x, dim=1)``,
``torch.where(c, a, b)``, ``torch.bmm`` … Each calls the op or method that does the work, so a
program may write either spelling and get the same numbers and gradients."""

from __future__ import annotations

import numpy as np

from ffnn import ops
from ffnn.size import Size  # noqa: F401 - torch.Size, exported here
from ffnn.tensor import Tensor, _data_of, _to_array
from ffnn.tensor_str import set_printoptions  # noqa: F401 - exported here


def _tensor(x) -> Tensor:
    """``x`` as a tensor: numbers, lists and arrays by torch.tensor's dtype rules."""
    return x if isinstance(x, Tensor) else Tensor._make(_to_array(x), False, None)


def sin(input):
    return ops.sin(_tensor(input))


def cos(input):
    return ops.cos(_tensor(input))


def pow(input, exponent):  # noqa: A001 - torch's name
    if not isinstance(input, Tensor):  # torch.pow(2, t)
        return _tensor(exponent).__rpow__(input)
    return ops.pow(input, exponent)


def square(input):
    return _tensor(input).square()


def add(input, other, alpha=1):
    return ops.add(_tensor(input), other if alpha == 1 else ops.mul(_tensor(other), alpha))


def sub(input, other, alpha=1):
    return ops.sub(_tensor(input), other if alpha == 1 else ops.mul(_tensor(other), alpha))


def mul(input, other):
    return ops.mul(_tensor(input), other)


def div(input, other, *, rounding_mode: str | None = None):
    return _tensor(input).div(other, rounding_mode=rounding_mode)


def neg(input):
    return ops.neg(input)


def unsqueeze(input, dim: int):
    return input.unsqueeze(dim)


def squeeze(input, dim=None):
    return input.squeeze(dim)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    return input.flatten(start_dim, end_dim)


def reshape(input, shape):
    return input.reshape(shape)


def transpose(input, dim0: int, dim1: int):
    return input.transpose(dim0, dim1)


def swapaxes(input, axis0: int, axis1: int):
    return input.transpose(axis0, axis1)


def t(input):
    return input.t()


def permute(input, dims):
    return input.permute(dims)


def sum(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None):  # noqa: A001
    """Σ over ``dim`` (all elements by default), optionally computed in ``dtype``."""
    input = _tensor(input)
    return (input if dtype is None else input.to(dtype)).sum(dim, keepdim, axis=axis)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None):
    input = _tensor(input)
    return (input if dtype is None else input.to(dtype)).mean(dim, keepdim, axis=axis)


def max(input, dim=None, keepdim: bool = False, *, axis=None, other=None):  # noqa: A001
    """The largest element; with ``dim``, ``(values, indices)``; with a tensor (``other``),
    element-wise."""
    return _tensor(input).max(dim, keepdim, axis=axis, other=other)


def min(input, dim=None, keepdim: bool = False, *, axis=None, other=None):  # noqa: A001
    """The smallest element; with ``dim``, ``(values, indices)``; with a tensor (``other``),
    element-wise."""
    return _tensor(input).min(dim, keepdim, axis=axis, other=other)


def maximum(input, other):
    """The larger of the two, element-wise (NaN wins, as torch's)."""
    return ops.maximum(input, other)


def minimum(input, other):
    """The smaller of the two, element-wise (NaN wins, as torch's)."""
    return ops.minimum(input, other)


def matmul(input, other):
    """The matrix product, broadcast over leading axes (1-d operands as vectors)."""
    return ops.matmul(input, other)


def amax(input, dim=None, keepdim: bool = False, *, axis=None):
    return _tensor(input).amax(dim, keepdim, axis=axis)


def amin(input, dim=None, keepdim: bool = False, *, axis=None):
    return _tensor(input).amin(dim, keepdim, axis=axis)


def argmax(input, dim=None, keepdim: bool = False, *, axis=None):
    return _tensor(input).argmax(dim, keepdim, axis=axis)


def argmin(input, dim=None, keepdim: bool = False, *, axis=None):
    return _tensor(input).argmin(dim, keepdim, axis=axis)


def std(input, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None,
        axis=None):
    return _tensor(input).std(dim, unbiased, keepdim, correction=correction, axis=axis)


def var(input, dim=None, unbiased: bool = True, keepdim: bool = False, *, correction=None,
        axis=None):
    return _tensor(input).var(dim, unbiased, keepdim, correction=correction, axis=axis)


def round(input, decimals: int = 0):  # noqa: A001 - torch's name
    return input.round(decimals=decimals)


def isnan(input):
    return input.isnan()


def isinf(input):
    return input.isinf()


def isfinite(input):
    return input.isfinite()


def sign(input):
    return input.sign()


def where(condition, input=None, other=None):
    """``input`` where ``condition`` else ``other``; ``where(condition)`` gives the indices of
    the true elements (one int64 tensor per axis), as ``nonzero(as_tuple=True)``."""
    if input is None and other is None:
        return tuple(Tensor._of(i.astype(np.int64)) for i in np.nonzero(_data_of(condition)))
    return ops.where(condition, input, other)


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be 2-D. Received: shapes "
                           f"{tuple(input.shape)} and {tuple(mat2.shape)}")
    return ops.matmul(input, mat2)


def bmm(input, mat2):
    return input.bmm(mat2)


def dot(input, tensor):
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"dot: 1-D tensors expected. Received: shapes {tuple(input.shape)} "
                           f"and {tuple(tensor.shape)}")
    return ops.matmul(input, tensor)


def outer(input, vec2):
    return ops.mul(input.reshape(-1, 1), vec2.reshape(1, -1))


def norm(input, p=2, dim=None, keepdim: bool = False):
    return input.norm(p, dim, keepdim)


def numel(input) -> int:
    return input.numel()


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(np.allclose(_data_of(input), _data_of(other), rtol, atol, equal_nan))


def equal(input, other) -> bool:
    a, b = np.asarray(_data_of(input)), np.asarray(_data_of(other))
    return a.shape == b.shape and bool(np.array_equal(a, b))


def eq(input, other):
    return input == other


def chunk(input, chunks: int, dim: int = 0):
    return input.chunk(chunks, dim)


def split(tensor, split_size_or_sections, dim: int = 0):
    return tensor.split(split_size_or_sections, dim)


def log1p(input):
    return ops.log1p(input)


def expm1(input):
    return ops.expm1(input)


def cumsum(input, dim: int, *, dtype=None):
    return _tensor(input).cumsum(dim, dtype=dtype)


def logsumexp(input, dim, keepdim: bool = False):
    return ops.logsumexp(input, dim, keepdim)


def floor(input):
    return input.floor()


def ceil(input):
    return input.ceil()


def remainder(input, other):
    return _tensor(input) % other


def floor_divide(input, other):
    return _tensor(input) // other


def gather(input, dim: int, index, *, sparse_grad: bool = False):
    return input.gather(dim, index)


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    return input.sort(dim, descending, stable)


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    return input.argsort(dim, descending, stable)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    return input.topk(k, dim, largest, sorted)


def clone(input, *, memory_format=None):
    return input.clone()


def detach(input):
    return input.detach()


__all__ = [
    "sin", "cos", "pow", "square", "add", "sub", "mul", "div", "neg", "unsqueeze", "squeeze",
    "flatten", "reshape", "transpose", "swapaxes", "t", "permute", "sum", "mean", "max", "min",
    "amax",
    "amin", "argmax", "argmin", "std", "var", "round", "isnan", "isinf", "isfinite",
    "sign", "where", "mm", "bmm", "dot", "outer", "norm", "numel", "allclose", "equal", "eq",
    "chunk", "split", "clone", "detach", "log1p", "expm1", "cumsum", "logsumexp", "floor",
    "ceil", "remainder", "floor_divide", "gather", "sort", "argsort", "topk", "Size",
    "set_printoptions",
]
