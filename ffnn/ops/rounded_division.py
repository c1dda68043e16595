"""``RoundedDivision``: a / b rounded towards zero or down (``torch.div`` with
``rounding_mode='trunc'`` or ``'floor'``), a step function, so its gradient is zero."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.elementwise import constant_like


def divide_rounded(a, b, mode: str):
    """trunc(a / b) or ⌊a / b⌋ element-wise, a and b of one dtype. Integers divide exactly
    (a zero divisor is torch's RuntimeError); floats as torch: trunc of the quotient, and
    Python's floor division (by fmod, so ⌊1 / 0.1⌋ = 9), a / b for b = 0."""
    m = xp(a)
    if a.dtype.kind in "iu":
        if (b == 0).any():
            raise RuntimeError("ZeroDivisionError")
        floor = m.floor_divide(a, b)
        if mode == "floor":
            return floor
        inexact = (m.remainder(a, b) != 0) & ((a < 0) != (b < 0))
        return m.where(inexact, floor + 1, floor).astype(floor.dtype, copy=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return m.trunc(a / b) if mode == "trunc" else m.floor_divide(a, b)


class RoundedDivision(Op):
    """y = trunc(a / b) or ⌊a / b⌋ (broadcast);  dL/da = dL/db = 0, as torch's: the result
    stays in the graph, so a loss through it gets zeros rather than an error."""

    def forward(self, a, b, mode="trunc"):
        self.shapes = a.shape, b.shape
        return divide_rounded(a, b, mode)

    def backward(self, grad):
        m = xp(grad)
        return tuple(m.zeros(shape, grad.dtype) if needed else None
                     for shape, needed in zip(self.shapes, self.needs_input_grad))

    def backward_graph(self, grad, a, b):
        return tuple(constant_like(grad, np.zeros(shape)) if needed else None
                     for shape, needed in zip(self.shapes, self.needs_input_grad))
