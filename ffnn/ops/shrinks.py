"""Threshold, Hardshrink and Softshrink as one op each, their derivatives under them.

torch's comparisons decide which branch a NaN takes: it passes through, with its gradient
(``x ≤ t`` and ``-λ ≤ x ≤ λ`` are false for NaN), and Softshrink keeps the sign of the zero
it writes for -λ ≤ x < 0 (``x·0``).
"""

from __future__ import annotations

import numpy as np

from ffnn.backend import xp
from ffnn.ops.activations import MULTI_PASS_MIN_SIZE, PointwiseOp
from ffnn.ops.pointwise import Pointwise


def _passing(name: str, kept: str, y: str, scalars: tuple[str, ...]) -> Pointwise:
    """The formula of an op that passes x, or a value of its own, where ``kept`` holds, and
    dL/dy where it holds, else 0 (the ``kept`` mask kept for the backward)."""
    return Pointwise(name, forward=f"kept = {kept}\ny = {y}", saved=("kept",),
                     backward="grad_input = grad if kept else 0.0", scalars=scalars,
                     dtypes={"kept": bool})


class _Passing(PointwiseOp):
    """dL/dx = dL/dy where ``kept`` (saved by the forward), else 0."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def reference_backward(self, grad):
        return xp(grad).where(self.kept, grad, 0).astype(grad.dtype, copy=False)

    piecewise_linear = True


THRESHOLD = _passing("threshold", "not x <= threshold", "x if kept else value",
                     ("threshold", "value"))


class Threshold(_Passing):
    """y = x if x > t else v;  dL/dx = dL/dy where x > t, else 0."""

    def formula(self, threshold=0.0, value=0.0):
        return THRESHOLD, {"threshold": threshold, "value": value}

    def reference_forward(self, x, threshold=0.0, value=0.0):
        self.kept = ~(x <= threshold)
        return xp(x).where(self.kept, x, value).astype(x.dtype, copy=False)


OUTSIDE = "not (x >= -lambd and x <= lambd)"
HARDSHRINK = _passing("hardshrink", OUTSIDE, "x if kept else 0.0", ("lambd",))


class Hardshrink(_Passing):
    """y = x outside [-λ, λ], 0 inside;  dL/dx = dL/dy outside, 0 inside."""

    def formula(self, lambd=0.5):
        return HARDSHRINK, {"lambd": lambd}

    def reference_forward(self, x, lambd=0.5):
        self.kept = ~((x >= -lambd) & (x <= lambd))
        return xp(x).where(self.kept, x, 0).astype(x.dtype, copy=False)


SOFTSHRINK = _passing("softshrink", OUTSIDE,
                      "x - lambd if x > lambd else (x + lambd if x < -lambd else x * 0.0)",
                      ("lambd",))


class Softshrink(_Passing):
    """y = x - λ above λ, x + λ below -λ, 0 between;  dL/dx = dL/dy outside [-λ, λ], else 0."""

    def formula(self, lambd=0.5):
        return SOFTSHRINK, {"lambd": lambd}

    def reference_forward(self, x, lambd=0.5):
        m = xp(x)
        lambd = x.dtype.type(lambd)  # torch's: λ in the input's dtype
        self.kept = ~((x >= -lambd) & (x <= lambd))
        with np.errstate(invalid="ignore"):  # ±inf · 0 is not taken
            shrunk = m.where(x > lambd, x - lambd, m.where(x < -lambd, x + lambd, x * 0))
        return shrunk.astype(x.dtype, copy=False)
