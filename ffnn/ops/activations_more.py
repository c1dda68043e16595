"""More activations as one op each: Hardtanh (ReLU6), Hardsigmoid, Hardswish, Mish,
LogSigmoid, Softsign, Tanhshrink, CELU and GLU, each derivative under its forward.

Where the function has a corner, the derivative there is torch's (its backward kernels' one-
sided choice, not the ``clamp`` gradient): Hardtanh's is 0 at min_val and max_val (ReLU6's at
0 and 6), Hardsigmoid's 0 at ±3, Hardswish's 0 at -3 and dL/dy at 3.
"""

from __future__ import annotations

import numpy as np

from ffnn import accel
from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.activations import (
    MULTI_PASS_MIN_SIZE,
    SIGMOID,
    PointwiseOp,
    Softplus,
    stable_sigmoid,
)
from ffnn.ops.elementwise import constant_like
from ffnn.ops.pointwise import Pointwise
from ffnn.ops.shape import Concatenate

HARDTANH = Pointwise("hardtanh", forward="""
    inside = x > min_val and x < max_val
    y = min_val if x < min_val else (max_val if x > max_val else x)
    """, saved=("inside",), backward="grad_input = grad if inside else 0.0",
    scalars=("min_val", "max_val"), dtypes={"inside": bool})


class Hardtanh(PointwiseOp):
    """y = min(max(x, lo), hi);  dL/dx = dL/dy where lo < x < hi, else 0. NaN stays NaN (its
    gradient 0)."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self, min_val=-1.0, max_val=1.0):
        return HARDTANH, {"min_val": min_val, "max_val": max_val}

    def reference_forward(self, x, min_val=-1.0, max_val=1.0):
        self.inside = (x > min_val) & (x < max_val)
        return xp(x).clip(x, min_val, max_val).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        return xp(grad).where(self.inside, grad, 0).astype(grad.dtype, copy=False)

    piecewise_linear = True


HARDSIGMOID = Pointwise("hardsigmoid", forward="""
    inside = x > -3.0 and x < 3.0
    shifted = x + 3.0
    y = (0.0 if shifted < 0.0 else (6.0 if shifted > 6.0 else shifted)) / 6.0
    """, saved=("inside",), backward="grad_input = grad / 6.0 if inside else 0.0",
    dtypes={"inside": bool})


class Hardsigmoid(PointwiseOp):
    """y = min(max(x + 3, 0), 6) / 6;  dL/dx = dL/dy / 6 where -3 < x < 3, else 0."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return HARDSIGMOID, {}

    def reference_forward(self, x):
        self.inside = (x > -3) & (x < 3)
        return (xp(x).clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        return xp(grad).where(self.inside, grad / 6, 0).astype(grad.dtype, copy=False)

    piecewise_linear = True


HARDSWISH = Pointwise("hardswish", forward="""
    shifted = x + 3.0
    y = x * (0.0 if shifted < 0.0 else (6.0 if shifted > 6.0 else shifted)) / 6.0
    """, saved=("x",), backward="""
    grad_input = 0.0 if x <= -3.0 else (grad * (x / 3.0 + 0.5) if x < 3.0 else grad)
    """)


class Hardswish(PointwiseOp):
    """y = x · min(max(x + 3, 0), 6) / 6;  dL/dx = 0 for x ≤ -3, dL/dy · (x/3 + ½) for
    -3 < x < 3, dL/dy for x ≥ 3."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return HARDSWISH, {}

    def reference_forward(self, x):
        self.x = x
        return (x * xp(x).clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        m, x = xp(grad), self.x
        inner = m.where(x < 3, grad * (x / 3 + 0.5), grad)
        return m.where(x <= -3, 0, inner).astype(grad.dtype, copy=False)

    def slope_graph(self, x):
        inside = constant_like(x, (x._data > -3) & (x._data < 3))
        above = constant_like(x, x._data >= 3)
        return inside * (x / 3 + 0.5) + above


MISH = Pointwise("mish", forward="""
    e = exp_small(-abs(x))
    t = tanh((x if x > 0.0 else 0.0) + log1p(e))
    y = x * t
    s = 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)
    slope = t + x * s * (1.0 - t * t)
    """, saved=("slope",), backward="grad_input = grad * slope")


class Mish(PointwiseOp):
    """y = x · tanh(softplus(x));  dL/dx = dL/dy · (t + x σ(x) (1 - t²)), t = tanh(softplus(x)).
    softplus(x) = max(x, 0) + log(1 + e^{-|x|}) cannot overflow."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return MISH, {}

    def reference_forward(self, x):
        m = xp(x)
        e = m.exp(-m.abs(x))
        t = m.tanh(m.maximum(x, 0) + m.log1p(e))
        self.slope = (t + x * stable_sigmoid(x) * (1 - t * t)).astype(x.dtype, copy=False)
        return (x * t).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        return grad * self.slope

    def slope_graph(self, x):
        t = Softplus.apply(x).tanh()
        return t + x * x.sigmoid() * (1 - t * t)


LOG_SIGMOID = Pointwise("log_sigmoid", forward="""
    e = exp_small(-abs(x))
    y = (x if x < 0.0 else 0.0) - log1p(e)
    slope = e / (1.0 + e) if x >= 0.0 else 1.0 / (1.0 + e)
    """, saved=("slope",), backward="grad_input = grad * slope")


class LogSigmoid(PointwiseOp):
    """y = log σ(x) = min(x, 0) - log(1 + e^{-|x|});  dL/dx = dL/dy · σ(-x)."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return LOG_SIGMOID, {}

    def reference_forward(self, x):
        m = xp(x)
        e = m.exp(-m.abs(x))
        self.slope = m.where(x >= 0, e / (1 + e), 1 / (1 + e)).astype(x.dtype, copy=False)
        return (m.minimum(x, 0) - m.log1p(e)).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        return grad * self.slope

    def slope_graph(self, x):
        return (-x).sigmoid()


SOFTSIGN = Pointwise("softsign", forward="y = x / (1.0 + abs(x))", saved=("x",), backward="""
    b = 1.0 + abs(x)
    grad_input = grad / (b * b)
    """)


class Softsign(PointwiseOp):
    """y = x / (1 + |x|);  dL/dx = dL/dy / (1 + |x|)²."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return SOFTSIGN, {}

    def reference_forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore"):  # ±inf / inf: NaN, as torch's
            return (x / (1 + xp(x).abs(x))).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        b = 1 + xp(grad).abs(self.x)
        return (grad / (b * b)).astype(grad.dtype, copy=False)

    def slope_graph(self, x):
        d = 1 + x.abs()
        return 1 / (d * d)


TANHSHRINK = Pointwise("tanhshrink", forward="""
    t = tanh(x)
    y = x - t
    square = t * t
    """, saved=("square",), backward="grad_input = grad * square")


class Tanhshrink(PointwiseOp):
    """y = x - tanh(x);  dL/dx = dL/dy · tanh²(x)."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return TANHSHRINK, {}

    def reference_forward(self, x):
        t = xp(x).tanh(x)
        self.square = (t * t).astype(x.dtype, copy=False)
        return (x - t).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        return grad * self.square

    def slope_graph(self, x):
        t = x.tanh()
        return t * t


CELU_FORMULA = Pointwise("celu", forward="""
    kept = not x <= 0.0
    z = (x if x < 0.0 else 0.0) * inverse_alpha
    y = x if kept else alpha * expm1(z)
    slope = 1.0 if kept else exp_small(z)
    """, saved=("slope",), backward="grad_input = grad * slope",
    scalars=("alpha", "inverse_alpha"))


class CELU(PointwiseOp):
    """y = x if x > 0 else α(e^{x/α} - 1);  dL/dx = dL/dy · (1 if x > 0 else e^{x/α}). As
    torch's, 1/α is rounded to the input's dtype first, and NaN passes through."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self, alpha=1.0):
        return CELU_FORMULA, {"alpha": alpha, "inverse_alpha": 1.0 / alpha}

    def reference_forward(self, x, alpha=1.0):
        m = xp(x)
        kept = ~(x <= 0)
        z = m.minimum(x, 0) * x.dtype.type(1.0 / alpha)
        z = m.where(kept, 0, z)  # NaN takes the linear branch
        self.slope = m.where(kept, 1, m.exp(z)).astype(x.dtype, copy=False)
        return m.where(kept, x, alpha * m.expm1(z)).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        return grad * self.slope

    def slope_graph(self, x, alpha=1.0):
        kept = constant_like(x, ~(x._data <= 0))
        return kept + (1 - kept) * (x.clamp(max=0) / alpha).exp()


class GLU(Op):
    """y = a ⊗ σ(b), [a, b] the halves of x along ``dim``;  dL/da = dL/dy · σ(b),
    dL/db = dL/dy · a σ(b)(1 - σ(b)). σ(b) by the compiled sigmoid where ``accel`` takes b
    (a contiguous copy of the half first), else NumPy's stable form."""

    def forward(self, x, dim=-1):
        a, b = xp(x).split(x, 2, axis=dim)
        if accel.usable(x, min_size=MULTI_PASS_MIN_SIZE):
            sigmoid = SIGMOID.infer(np.ascontiguousarray(b))
        else:
            sigmoid = stable_sigmoid(b)
        self.a, self.sigmoid, self.dim = a, sigmoid, dim
        return a * sigmoid

    def backward(self, grad):
        grad_a = grad * self.sigmoid
        grad_b = grad_a * self.a * (1 - self.sigmoid)
        return (xp(grad).concatenate([grad_a, grad_b], axis=self.dim),)

    def backward_graph(self, grad, x):
        """The gradient above as tensor ops on the halves [a, b] of x."""
        dim = self.options.get("dim", -1)
        a, b = x.chunk(2, dim)
        s = b.sigmoid()
        grad_a = grad * s
        return (Concatenate.apply(grad_a, grad_a * a * (1 - s), dim=dim),)
