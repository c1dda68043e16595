"""Every differentiable op, as functions on tensors. The classes with forward and backward
side by side live in the submodules; this module turns scalars into tensors and calls them."""

from __future__ import annotations

import numpy as np

from ffnn import dtypes
from ffnn.indexing import torch_index
from ffnn.ops import (
    activations,
    activations_more,
    elementwise,
    losses,
    matrix,
    norms,
    reductions,
    shape,
)
from ffnn.ops import embedding as _embedding
from ffnn.tensor import Tensor, _operand
from ffnn.tensor_math import result_dtype
from ffnn.type_promotion import promote_types, wrapped_int


def _pair(a, b):
    """Both operands as tensors of torch's result dtype (``type_promotion.result_dtype``):
    the higher category wins (int64 with float32 is float32, where NumPy gives float64), and
    a 0-d tensor counts only by a higher category than the tensor with dimensions (a float32
    batch divided by a float64 0-d tensor stays float32; a bool mask times 2 is int64)."""
    b = _operand(b, a)
    dtype_a, dtype_b = a._data.dtype, b._data.dtype
    if dtype_a == dtype_b:
        return a, b
    dtype = result_dtype(a, b)
    return (a if dtype_a == dtype else a.to(dtype)), (b if dtype_b == dtype else b.to(dtype))


def add(a, b):
    return elementwise.Add.apply(*_pair(a, b))


def sub(a, b):
    """a - b; a bool operand raises torch's error (``check_subtraction``)."""
    check_subtraction(a, b)
    return elementwise.Sub.apply(*_pair(a, b))


def check_subtraction(a, b) -> None:
    """torch's error for a bool operand of a subtraction (``~`` or ``^`` was meant)."""
    bools = _is_bool(a) + _is_bool(b)
    if bools:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
            "`^` or `logical_xor()` operator instead." if bools == 2 else
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def _is_bool(operand) -> bool:
    """A bool tensor or a Python (or NumPy) bool."""
    data = getattr(operand, "_data", operand)
    return isinstance(data, (bool, np.bool_)) or getattr(data, "dtype", None) == np.bool_


def mul(a, b):
    return elementwise.Mul.apply(*_pair(a, b))


def div(a, b):
    """a / b, true division: in torch's result dtype of the two, the default float dtype
    where that is an integer or bool one."""
    a, b = _pair(a, b)
    if a._data.dtype.kind in "iub":
        a, b = _floating(a), _floating(b)
    return elementwise.Div.apply(a, b)


def _floating(x):
    """``x``, or ``x`` in the default float dtype when it holds integers or bools (the
    dtype torch gives a float function of them)."""
    return x if x._data.dtype.kind in "fc" else x.to(dtypes.get_default_dtype())


def neg(a):
    if a._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return elementwise.Neg.apply(a)


def pow(a, exponent):  # noqa: A001 - torch's name
    if isinstance(exponent, (np.integer, np.floating)):
        exponent = exponent.item()  # a NumPy number counts as a Python one (weak), as torch's
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool):
        if isinstance(exponent, float) and a._data.dtype.kind in "iub":
            a = _floating(a)  # torch: an integer tensor to a float power is float32
        elif a._data.dtype.kind == "b":
            a = a.to(dtypes.int64)  # bool ** 2: int64, as torch's
        return elementwise.PowScalar.apply(a, exponent=exponent)
    if isinstance(exponent, bool) and a._data.dtype.kind == "b":
        return a.clone() if exponent else a.new_ones(a.shape)  # mask ** True: torch's bool
    a, exponent = _pair(a, exponent)
    if a._data.dtype.kind == "b":
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    return elementwise.Pow.apply(a, exponent)


def exp(x):
    return elementwise.Exp.apply(_floating(x))


def log(x):
    return elementwise.Log.apply(_floating(x))


def sqrt(x):
    return elementwise.Sqrt.apply(_floating(x))


def sin(x):
    return elementwise.Sin.apply(_floating(x))


def cos(x):
    return elementwise.Cos.apply(_floating(x))


def log1p(x):
    return elementwise.Log1p.apply(_floating(x))


def expm1(x):
    return elementwise.Expm1.apply(_floating(x))


def cumsum(x, dim, wide=True):
    return reductions.Cumsum.apply(x, dim=dim, wide=wide)


def logsumexp(x, dim, keepdim=False):
    """log Σ eˣ along ``dim`` (an int, a tuple or a list; empty: every axis), stable
    (``reductions.LogSumExp``)."""
    return reductions.LogSumExp.apply(_floating(x), dim=dim, keepdim=keepdim)


def where(condition, a, b):
    """Element-wise choice: ``a`` where ``condition`` is true, else ``b`` (differentiable in
    both; numbers take the other operand's dtype)."""
    if not isinstance(a, Tensor):
        a = _operand(a, b) if isinstance(b, Tensor) else Tensor._of(a)
    a, b = _pair(a, b)
    cond = condition._data if isinstance(condition, Tensor) else condition
    if isinstance(condition, Tensor) and cond.dtype.kind in "fc":
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {cond.dtype}. Received: condition of dtype {cond.dtype} "
                           "(compare it first, e.g. condition > 0)")
    return elementwise.Where.apply(a, b, condition=cond.astype(bool, copy=False)
                                   if hasattr(cond, "astype") else bool(cond))


def abs(x):  # noqa: A001 - torch's name
    return elementwise.Abs.apply(x)


def clamp(x, min=None, max=None):  # noqa: A002 - torch's names
    """min(max(x, min), max) in torch's result dtype of x and the bounds (an integer tensor
    clamped to 1.5 is float32). Tensor bounds broadcast and receive the gradient where they
    bind (x where it lies between them, ties included, as torch's)."""
    bounds = [b for b in (min, max) if b is not None]
    if not bounds:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if x._data.dtype.kind != "f" or any(isinstance(b, Tensor) and b._data.dtype != x._data.dtype
                                        for b in bounds):  # a float x keeps its dtype else
        dtype = result_dtype(x, *bounds)
        x = x if x._data.dtype == dtype else x.to(dtype)
    if not any(isinstance(b, Tensor) for b in bounds):
        if x._data.dtype.kind in "iu":
            min, max = (_integer_bound(b, x._data.dtype) for b in (min, max))  # noqa: A001
        return elementwise.Clamp.apply(x, lo=min, hi=max)
    if min is not None:
        low = _operand(min, x)
        x = where(x < low, low, x)
    if max is not None:
        high = _operand(max, x)
        x = where(x > high, high, x)
    return x


def _integer_bound(bound, dtype: np.dtype):
    """A number bound of an integer tensor as torch's clamp takes it: an int wrapped into
    ``dtype`` (uint8: -1 is 255) if its magnitude fits (within -255..255 for uint8,
    -128..127 for int8), else torch's RuntimeError."""
    if type(bound) is not int:
        return bound
    info = np.iinfo(dtype)
    if not (-info.max if info.min == 0 else info.min) <= bound <= info.max:
        wrapped_int(bound, dtype)  # beyond 64 bits: torch's OverflowError
        raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without overflow")
    return wrapped_int(bound, dtype)


def maximum(a, b):
    return elementwise.Maximum.apply(*_pair(a, b))


def minimum(a, b):
    return elementwise.Minimum.apply(*_pair(a, b))


def matmul(a, b):
    return matrix.MatMul.apply(a, _operand(b, a))


def embedding(indices, weight, padding_idx=None):
    return _embedding.Embedding.apply(indices, weight, padding_idx=padding_idx)


def linear(x, weight, bias=None):
    return matrix.Linear.apply(x, weight, bias)


def norm(x, p=2.0, dim=None, keepdim=False):
    return reductions.Norm.apply(x, p=p, dim=dim, keepdim=keepdim)


def sum(x, dim=None, keepdim=False):  # noqa: A001 - torch's name
    return reductions.Sum.apply(x, dim=dim, keepdim=keepdim)


def mean(x, dim=None, keepdim=False):
    return reductions.Mean.apply(x, dim=dim, keepdim=keepdim)


def var(x, dim=None, keepdim=False, correction=1):
    return reductions.Var.apply(x, dim=dim, keepdim=keepdim, correction=correction)


def std(x, dim=None, keepdim=False, correction=1):
    return reductions.Std.apply(x, dim=dim, keepdim=keepdim, correction=correction)


def amax(x, dim=None, keepdim=False):
    return reductions.Extremum.apply(x, dim=dim, keepdim=keepdim, largest=True,
                                     split_ties=True)


def amin(x, dim=None, keepdim=False):
    return reductions.Extremum.apply(x, dim=dim, keepdim=keepdim, largest=False,
                                     split_ties=True)


def reshape(x, new_shape):
    return shape.Reshape.apply(x, shape=tuple(new_shape))


def expand(x, new_shape):
    return shape.Expand.apply(x, shape=tuple(new_shape))


def flatten(x, start_dim=0, end_dim=-1):
    dims = x.shape
    start = reductions.normalize_dim(start_dim, x.ndim)
    end = reductions.normalize_dim(end_dim, x.ndim)
    if x.ndim == 0:
        return reshape(x, (1,))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    size = 1
    for n in dims[start : end + 1]:
        size *= n
    return reshape(x, dims[:start] + (size,) + dims[end + 1 :])


def unsqueeze(x, dim):
    dim = reductions.normalize_dim(dim, x.ndim, extra=1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    """``x`` without its axes of size 1 (of those among ``dim``: an int, or a tuple or list as
    torch 2 takes; a listed axis of another size stays)."""
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = [reductions.normalize_dim(d, x.ndim) for d in
            (dim if isinstance(dim, (tuple, list)) else (dim,))]
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    kept = tuple(n for i, n in enumerate(x.shape) if n != 1 or i not in dims)
    if x.ndim == 0 or kept == tuple(x.shape):
        return x
    return reshape(x, kept)


def permute(x, dims):
    return shape.Permute.apply(x, dims=tuple(dims))


def transpose(x, dim0, dim1):
    dims = list(range(x.ndim))
    dim0, dim1 = reductions.normalize_dim(dim0, x.ndim), reductions.normalize_dim(dim1, x.ndim)
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return permute(x, dims)


def getitem(x, index):
    """x[index] with torch's reading of the index (``ffnn.indexing``): integers among
    advanced indices first, as a view of x."""
    if type(index) is not int and type(index) is not slice:
        index, first = torch_index(index)
        if first is not None:
            x = getitem(x, first)
    out = shape.GetItem.apply(x, index=index)
    if out._view_of is not None:  # a view: an in-place change re-records x[index] = out
        out._view_of = (x, index)
    return out


def gather(x, dim, index):
    index = index.numpy() if isinstance(index, Tensor) else index
    return shape.Gather.apply(x, index=index, dim=dim)


def concatenate(tensors, dim=0):
    """The tensors joined along ``dim``, in torch's result dtype of them all; a 1-d empty
    tensor (an accumulator started as ``torch.tensor([])``) is skipped, as torch skips it."""
    tensors = _promoted(tensors)
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    kept = [t for t in tensors if t.shape != (0,)]
    if len(kept) < len(tensors) and kept:
        return shape.Concatenate.apply(*kept, dim=dim)
    return shape.Concatenate.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """The tensors stacked on a new axis ``dim``, in torch's result dtype of them all."""
    return shape.Stack.apply(*_promoted(tensors), dim=dim)


def _promoted(tensors) -> list:
    """The tensors cast to torch's result dtype of them all (where they differ)."""
    tensors = list(tensors)
    dtypes_found = {t._data.dtype for t in tensors}
    if len(dtypes_found) < 2:
        return tensors
    dtype = dtypes_found.pop()
    for other in dtypes_found:
        dtype = promote_types(dtype, other)
    return [t if t._data.dtype == dtype else t.to(dtype) for t in tensors]


def relu(x):
    return activations.ReLU.apply(x)


def leaky_relu(x, negative_slope=0.01):
    return activations.LeakyReLU.apply(x, negative_slope=negative_slope)


def sigmoid(x):
    return activations.Sigmoid.apply(_floating(x))


def elu(x, alpha=1.0, scale=1.0):
    return activations.ELU.apply(x, alpha=alpha, scale=scale)


def softplus(x, beta=1.0, threshold=20.0):
    return activations.Softplus.apply(x, beta=beta, threshold=threshold)


def hardtanh(x, min_val=-1.0, max_val=1.0):
    return activations_more.Hardtanh.apply(x, min_val=min_val, max_val=max_val)


def hardsigmoid(x):
    return activations_more.Hardsigmoid.apply(x)


def hardswish(x):
    return activations_more.Hardswish.apply(x)


def mish(x):
    return activations_more.Mish.apply(x)


def prelu(x, weight):
    return activations.PReLU.apply(x, weight)


def tanh(x):
    return activations.Tanh.apply(_floating(x))


def gelu(x, approximate="none"):
    return activations.GELU.apply(x, approximate=approximate)


def silu(x):
    return activations.SiLU.apply(x)


def softmax(x, dim=-1, dtype=None):
    """Softmax along ``dim``, computed in ``dtype`` when given (``torch.softmax``)."""
    x = x if dtype is None else x.to(dtype)
    return activations.Softmax.apply(x, dim=reductions.normalize_dim(dim, x.ndim))


def log_softmax(x, dim=-1, dtype=None):
    """Log-softmax along ``dim``, computed in ``dtype`` when given (``torch.log_softmax``)."""
    x = x if dtype is None else x.to(dtype)
    return activations.LogSoftmax.apply(x, dim=reductions.normalize_dim(dim, x.ndim))


__all__ = ["activations", "elementwise", "losses", "matrix", "norms", "reductions", "shape"]


def prod(x, dim=None, keepdim=False):
    return reductions.Prod.apply(x, dim=dim, keepdim=keepdim)


def einsum(equation, *operands):
    """torch.einsum(equation, *operands) (operands may also come as one list)."""
    from ffnn.ops.einsum_op import Einsum

    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return Einsum.apply(*operands, equation=equation)
