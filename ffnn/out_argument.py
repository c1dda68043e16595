"""torch's ``out=`` keyword on the function forms: ``torch.matmul(a, b, out=c)`` writes the
result into ``c`` (resized to the result's shape when it differs) and returns ``c``."""

from __future__ import annotations

import functools
import warnings

import numpy as np

from ffnn import autograd
from ffnn.tensor import Tensor

FUNCTIONS = (
    "abs", "add", "bmm", "cat", "ceil", "clamp", "cos", "cumsum", "div", "exp", "floor",
    "log", "matmul", "maximum", "mean", "minimum", "mm", "mul", "neg", "pow", "sigmoid",
    "sin", "sqrt", "square", "stack", "sub", "sum", "tanh",
)


def write_out(out, result: Tensor, name: str) -> Tensor:
    """Copy ``result`` into ``out`` as torch does for ``name(..., out=out)``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if autograd.is_grad_enabled() and (result.requires_grad or out.requires_grad):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    values = result.numpy()
    if values.dtype.kind == "f" and out.dtype.kind in "iub":
        raise RuntimeError(f"result type {values.dtype} can't be cast to the desired output "
                           f"type {out.dtype}")
    if out.shape != values.shape:
        if out.numel():
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape "
                          f"{list(values.shape)}", UserWarning, stacklevel=3)
        out._data = np.array(values, dtype=out.dtype)
        autograd.bump_version(out)
    else:
        out._write(values)
    return out


def with_out(fn):
    """``fn`` taking torch's keyword-only ``out=`` tensor."""

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        return result if out is None else write_out(out, result, fn.__name__)

    return wrapper
