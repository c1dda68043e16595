"""``where`` (and ``masked_fill``) compiled: one select an element, forward and backward.

NumPy's ``where`` takes a branch per element. On a condition without a pattern (x > 0, a
dropout-like mask) every other branch is mispredicted: [8192, 64] float32 took 3.5 ms, and
the backward two more such passes. A loop whose body is ``a if condition else b`` compiles
to a blend on SIMD lanes, with no branch: the same values, bit for bit (a select copies;
NaN, -0.0 and infinities pass unchanged).

The kernels take the condition and the operands at the output's full shape; a scalar (an
operand of one element) is a kernel scalar, anything else broadcast is copied to full size
first (one pass, still cheaper than NumPy's branches). Without numba, or below
``accel.MIN_SIZE`` elements, ``where`` stays NumPy's.
"""

from __future__ import annotations

import numpy as np

from ffnn import accel
from ffnn.kernels import ElementwiseKernel
from ffnn.ops.pointwise import split_call

WHERE = ElementwiseKernel("where", reads=("a", "b", "condition"), writes=("y",),
                          body="y = a if condition else b")
WHERE_SCALAR_A = ElementwiseKernel("where_scalar_a", reads=("b", "condition"), writes=("y",),
                                   scalars=("a",), body="y = a if condition else b")
WHERE_SCALAR_B = ElementwiseKernel("where_scalar_b", reads=("a", "condition"), writes=("y",),
                                   scalars=("b",), body="y = a if condition else b")
WHERE_BACKWARD = ElementwiseKernel(
    "where_backward", reads=("grad", "condition"), writes=("grad_a", "grad_b"),
    optional=("grad_a", "grad_b"), body="""
    if has_grad_a:
        grad_a = grad if condition else 0.0
    if has_grad_b:
        grad_b = 0.0 if condition else grad
    """)
"""dL/da = dL/dy where the condition holds, else 0; dL/db the rest (zeros, not products
with a mask: an infinite gradient must not become NaN where it is not taken)."""
_BOOL = {"condition": np.bool_}


def full_condition(condition, shape: tuple) -> np.ndarray | None:
    """``condition`` as a C-contiguous boolean array of ``shape`` (copied when broadcast), or
    None when it is not an array that broadcasts to ``shape``."""
    if not isinstance(condition, np.ndarray) or condition.dtype != np.bool_:
        return None
    if condition.shape == shape and condition.flags.c_contiguous:
        return condition
    try:
        return np.ascontiguousarray(np.broadcast_to(condition, shape))
    except ValueError:
        return None


def _full(operand: np.ndarray, shape: tuple) -> np.ndarray:
    if operand.shape == shape and operand.flags.c_contiguous:
        return operand
    return np.ascontiguousarray(np.broadcast_to(operand, shape))


def where_forward(condition, a: np.ndarray, b: np.ndarray) -> tuple | None:
    """(``np.where(condition, a, b)`` by the compiled select, the condition at full shape for
    ``where_backward``), or None where it does not apply
    (numba off or missing, fewer than ``accel.MIN_SIZE`` elements, operands not of one float
    dtype, shapes that do not broadcast)."""
    if not accel.enabled or type(a) is not np.ndarray or type(b) is not np.ndarray or \
            a.dtype != b.dtype or a.dtype.char not in "fd" or \
            max(a.size, b.size, np.size(condition)) < accel.MIN_SIZE:
        return None
    try:
        shape = np.broadcast_shapes(a.shape, b.shape, np.shape(condition))
    except ValueError:
        return None
    size = int(np.prod(shape))
    condition = full_condition(condition, shape) if size >= accel.MIN_SIZE else None
    if condition is None:
        return None
    if a.size == 1 and b.size == 1:
        return None
    y = np.empty(shape, a.dtype)
    if b.size == 1:
        kernel, arrays, values = WHERE_SCALAR_B, [_full(a, shape), condition], [b.item()]
    elif a.size == 1:
        kernel, arrays, values = WHERE_SCALAR_A, [_full(b, shape), condition], [a.item()]
    else:
        kernel, arrays, values = WHERE, [_full(a, shape), _full(b, shape), condition], []
    flat = [array.reshape(-1) for array in (*arrays, y)]
    if not _split(kernel, a.dtype, None, flat, values):
        kernel.loop(a.dtype)(size, *flat, *values)
    return y, condition


def _split(kernel: ElementwiseKernel, dtype: np.dtype, flags: dict | None, flat: list,
           values: list) -> bool:
    """``split_call`` of the kernel's entry point; False, asking for no entry point (a
    lookup of ~10 µs), below ``accel.PYTHON_SPLIT_MIN`` elements, where a call runs whole."""
    return flat[0].size >= accel.PYTHON_SPLIT_MIN and split_call(
        kernel.entry(dtype, _BOOL, flags), flat, values)


def select(condition: np.ndarray, a, b) -> np.ndarray:
    """``np.where(condition, a, b)`` (a, b arrays or numbers), by the compiled select where
    it applies."""
    dtype = np.result_type(a, b)
    a, b = np.asarray(a, dtype), np.asarray(b, dtype)
    found = where_forward(condition, a, b)
    return np.where(condition, a, b) if found is None else found[0]


def where_backward(grad, condition: np.ndarray, dtype: np.dtype, need_a: bool,
                   need_b: bool) -> tuple:
    """(dL/da, dL/db) at the output's shape (None where not needed) from dL/dy and the
    forward's full condition."""
    grad = accel.dense(grad, condition.shape, dtype)
    grad_a = np.empty_like(grad) if need_a else None
    grad_b = np.empty_like(grad) if need_b else None
    flags = {"has_grad_a": need_a, "has_grad_b": need_b}
    flat = [a.reshape(-1) for a in (grad, condition, grad if grad_a is None else grad_a,
                                     grad if grad_b is None else grad_b)]  # absent: not read
    if not _split(WHERE_BACKWARD, grad.dtype, flags, flat, [0.0]):
        WHERE_BACKWARD(grad=grad, condition=condition, grad_a=grad_a, grad_b=grad_b)
    return grad_a, grad_b
