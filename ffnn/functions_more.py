"""torch's function forms of the less common tensor methods (``torch.flip(x, [0])`` is
``x.flip([0])`` …, see ffnn.tensor_more), of the comparisons and logic tests, and the stacking
helpers ``hstack``/``vstack``/``meshgrid``."""

from __future__ import annotations

import numpy as np

from ffnn import creation, ops
from ffnn.tensor import Tensor, _to_array

METHOD_FORMS = (
    "flip", "prod", "count_nonzero", "trace", "index_select", "narrow", "select", "unbind",
    "masked_select", "roll", "repeat_interleave", "diag", "tril", "triu", "nonzero",
    "argwhere", "unique", "clamp_min", "clamp_max", "clip", "reciprocal", "rsqrt", "log2",
    "log10", "sinh", "cosh", "diff", "addmm", "movedim", "broadcast_to", "nan_to_num",
    "logical_not", "logical_and", "logical_or", "logical_xor", "isclose", "any", "all",
    "ge", "gt", "le", "lt", "ne", "masked_fill", "trunc", "frac", "fmod", "lerp", "addcmul",
    "addcdiv", "ger", "inner", "mv", "logit", "sgn", "is_complex", "positive", "reshape_as",
    "erf", "erfc",
)

__all__ = [*METHOD_FORMS, "hstack", "vstack", "meshgrid", "var_mean", "std_mean", "einsum",
           "bincount"]


def _as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._make(_to_array(x), False, None)


def _method_form(name: str):
    def form(input, *args, **kwargs):
        return getattr(_as_tensor(input), name)(*args, **kwargs)

    form.__name__ = form.__qualname__ = name
    form.__doc__ = f"``torch.{name}(input, …)`` is ``input.{name}(…)``."
    return form


for _name in METHOD_FORMS:
    globals()[_name] = _method_form(_name)


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-d tensors)."""
    return creation.cat(tensors, 1 if tensors[0].ndim > 1 else 0)


def vstack(tensors):
    """Concatenate along dim 0, 1-d tensors taken as rows."""
    return creation.cat([t.reshape(1, -1) if t.ndim == 1 else t for t in tensors], 0)


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids of 1-d tensors: the i-th output varies along axis i ('ij') or with
    the first two axes swapped ('xy')."""
    tensors = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
        else tensors
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', received {indexing!r}")
    sizes = [t.numel() for t in tensors]
    if indexing == "xy" and len(tensors) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(tensors):
        axis = i if indexing == "ij" or len(tensors) < 2 else {0: 1, 1: 0}.get(i, i)
        shape = [1] * len(tensors)
        shape[axis] = t.numel()
        out.append(t.reshape(shape).expand(sizes))
    return tuple(out)


def var_mean(input, dim=None, unbiased: bool = True, keepdim: bool = False, *,
             correction=None):
    """(variance, mean) over ``dim``."""
    return (input.var(dim, keepdim=keepdim, unbiased=unbiased, correction=correction),
            input.mean(dim, keepdim) if dim is not None else input.mean())


def std_mean(input, dim=None, unbiased: bool = True, keepdim: bool = False, *,
             correction=None):
    """(standard deviation, mean) over ``dim``."""
    return (input.std(dim, keepdim=keepdim, unbiased=unbiased, correction=correction),
            input.mean(dim, keepdim) if dim is not None else input.mean())


def einsum(equation, *operands):
    """Σ of products of the operands by subscripts (``"ij,jk->ik"``); see ffnn.ops.einsum_op.
    torch's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` (subscripts as integers
    after each operand, the output's last) and a list of operands are taken too."""
    if not isinstance(equation, str):
        return ops.einsum(*_sublist_equation((equation, *operands)))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return ops.einsum(equation, *operands)


def _sublist_equation(arguments: tuple) -> tuple:
    """(equation, *operands) of einsum's sublist form: (op, [ints], op, [ints], …, [out])."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def subscripts(sublist) -> str:
        return "".join("..." if index is Ellipsis else letters[index] for index in sublist)

    pairs = len(arguments) // 2
    operands = arguments[0:2 * pairs:2]
    inputs = ",".join(subscripts(s) for s in arguments[1:2 * pairs:2])
    output = f"->{subscripts(arguments[-1])}" if len(arguments) % 2 else ""
    return (inputs + output, *operands)


def bincount(input, weights=None, minlength: int = 0):
    """Counts of each value 0…max of a 1-d int tensor (or sums of ``weights``)."""
    values = _as_tensor(input).numpy()
    if values.ndim != 1 or values.dtype.kind not in "iu" or (values.size and values.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._of(np.bincount(values, minlength=minlength).astype(np.int64))
    weights = _as_tensor(weights).numpy()
    out = np.bincount(values, weights=weights, minlength=minlength)
    return Tensor._of(out.astype(weights.dtype if weights.dtype == np.float32 else np.float64))
