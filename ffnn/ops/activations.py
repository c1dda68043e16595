"""Activation functions, each with its derivative under it. All are stable for |x| ≥ 1e3."""

from __future__ import annotations

import math

import numpy as np

from ffnn import accel
from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.kernels import ElementwiseKernel
from ffnn.ops import selection
from ffnn.ops.elementwise import constant_like
from ffnn.ops.pointwise import Pointwise
from ffnn.ops.special import erfc

MULTI_PASS_MIN_SIZE = 256
"""The compiled path's threshold for ops whose NumPy reference takes several passes: from
256 elements on, one kernel call is quicker (sigmoid forward + backward on 512 float32:
~19 µs against ~30 µs; below, a call's fixed cost is most of it)."""


class PointwiseOp(Op):
    """An element-wise op with a compiled path generated from its formula.

    A subclass gives ``reference_forward`` / ``reference_backward`` (NumPy, the truth) and
    ``formula(*args)``: its ``Pointwise`` and scalars, or None where it has no compiled path.
    The compiled path runs when ``ffnn.accel`` takes ``x`` (numba, enabled, large enough).
    """

    pointwise: Pointwise | None = None
    kernel_min_size: int | None = None
    """Elements from which the compiled path runs (None: ``accel.MIN_SIZE``). An op whose
    NumPy reference takes many passes (a sigmoid, an exp) sets a smaller one: its kernel,
    ~5 µs a call, is then the quicker from a few hundred elements on."""

    def formula(self, *args, **options) -> tuple[Pointwise, dict] | None:
        """The op's ``Pointwise`` formula and its scalars for these options (None: no
        compiled path)."""
        return None

    def reference_forward(self, x, *args, **options):
        """y from x in NumPy, keeping what ``reference_backward`` needs."""
        raise NotImplementedError

    def reference_backward(self, grad):
        """dL/dx from dL/dy in NumPy."""
        raise NotImplementedError

    def forward(self, x, *args, **options):
        if accel.enabled and type(x) is np.ndarray and not x.flags.c_contiguous and \
                x.size >= (self.kernel_min_size or accel.MIN_SIZE):
            x = np.ascontiguousarray(x)  # a slice or a transpose: one copy, then the kernel
        found = self.formula(*args, **options) if accel.usable(
            x, min_size=self.kernel_min_size) else None
        if found is None:
            return self.reference_forward(x, *args, **options)
        pointwise, scalars = found
        if not any(self.needs_input_grad):  # inference: y alone, nothing kept
            return pointwise.infer(x, **scalars)
        self.pointwise, self.shape, self.dtype, self.scalars = pointwise, x.shape, x.dtype, \
            scalars
        y, saved = pointwise.forward(x, **scalars)
        for name, array in zip(pointwise.saved_attributes, saved):
            setattr(self, name, array)  # attributes, so in-place changes are detected
        return y

    def backward(self, grad):
        if self.pointwise is None:
            return (self.reference_backward(grad),)
        grad = accel.dense(grad, self.shape, self.dtype)
        saved = [getattr(self, name) for name in self.pointwise.saved_attributes]
        return (self.pointwise.backward(grad, saved, **self.scalars),)

    piecewise_linear = False
    """True for an op whose slope dy/dx is constant between kinks (ReLU, Hardtanh, …): its
    gradient's own derivative is then zero, and ``backward_graph`` multiplies by the slope
    as a constant."""

    def backward_graph(self, grad, x):
        """dL/dx = dL/dy · dy/dx: one ``SlopeProduct`` where the op's second derivative is
        an op (``ffnn.ops.curvatures``), else the slope from ``slope_graph`` times dL/dy."""
        from ffnn.ops import slope_product  # noqa: PLC0415 - it imports the activations

        if slope_product.curvature_of(self) is not None:
            return (slope_product.SlopeProduct.apply(grad, x, activation=type(self),
                                                     options=self.options),)
        if self.piecewise_linear:
            op = type(self)()
            op.needs_input_grad = (True,)
            op.forward(np.ascontiguousarray(x._data), **self.options)
            slope = op.backward(np.ones(x.shape, dtype=x.dtype))[0]
            return (grad * constant_like(x, slope),)
        return (grad * self.slope_graph(x, **self.options),)

    def slope_graph(self, x, **options):
        """dy/dx as tensor operations on ``x`` (so that it has a graph): the smooth ops'."""
        return Op.backward_graph(self, None, x)


RELU = Pointwise("relu", forward="""
    mask = not x <= 0
    y = x if mask else 0.0
    """, saved=("mask",), backward="grad_input = grad if mask else 0.0",
    dtypes={"mask": bool}, inference="y = x if x > 0 or x != x else 0")
"""torch's values: 0 for every x ≤ 0 (-inf too), NaN passed through with its gradient (x ≤ 0
is false for NaN), and a zero gradient where x ≤ 0 even for an infinite dL/dy."""


class ReLU(PointwiseOp):
    """y = max(x, 0);  dL/dx = dL/dy · [x > 0] (NaN: y = NaN, dL/dx = dL/dy)."""

    def forward(self, x):
        if not self.needs_input_grad[0] and not accel.usable(x, min_size=self.kernel_min_size):
            return xp(x).maximum(x, 0)  # inference in NumPy: one pass, no mask kept
        return super().forward(x)

    def formula(self):
        return RELU, {}

    def reference_forward(self, x):
        y = xp(x).maximum(x, 0)
        self.mask = y != 0  # x > 0, or NaN
        return y

    def reference_backward(self, grad):
        # 0 where x ≤ 0, written (torch's threshold_backward): dL/dy · 0 would be -0. for a
        # negative dL/dy (printed as -0.) and NaN for an infinite one
        return xp(grad).where(self.mask, grad, grad.dtype.type(0))

    piecewise_linear = True


LEAKY_RELU = Pointwise("leaky_relu", forward="""
    mask = x > 0
    y = x if mask else x * negative_slope
    """, saved=("mask",), backward="grad_input = grad if mask else grad * negative_slope",
    scalars=("negative_slope",), dtypes={"mask": bool})
"""Keeps a bool mask (1 byte per element, not a float slope of 4): the backward reads a
quarter of the bytes, what limits these loops on a large batch."""


class LeakyReLU(PointwiseOp):
    """y = x if x > 0 else s·x;  dL/dx = dL/dy · (1 if x > 0 else s)."""

    def formula(self, negative_slope=0.01):
        return LEAKY_RELU, {"negative_slope": negative_slope}

    def reference_forward(self, x, negative_slope=0.01):
        m = xp(x)
        self.slope = m.where(x > 0, 1, negative_slope).astype(x.dtype)
        return x * self.slope

    def reference_backward(self, grad):
        return grad * self.slope

    piecewise_linear = True


def stable_sigmoid(x):
    """σ(x) = 1/(1 + e⁻ˣ) without overflow: e^{-|x|} is never larger than 1."""
    m = xp(x)
    e = m.exp(-m.abs(x))
    return m.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


SIGMOID = Pointwise("sigmoid", forward="""
    e = exp_small(-abs(x))
    y = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    """, saved=("y",), backward="grad_input = grad * y * (1.0 - y)")


class Sigmoid(PointwiseOp):
    """y = σ(x) = 1/(1 + e⁻ˣ);  dL/dx = dL/dy · y (1 - y)."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return SIGMOID, {}

    def reference_forward(self, x):
        self.out = stable_sigmoid(x)
        return self.out

    def reference_backward(self, grad):
        y = self.out
        return grad * y * (1 - y)

    def slope_graph(self, x):
        s = x.sigmoid()
        return s * (1 - s)


TANH = Pointwise("tanh", forward="y = tanh(x)", saved=("y",),
                 backward="grad_input = grad * (1.0 - y * y)")


class Tanh(PointwiseOp):
    """y = tanh x;  dL/dx = dL/dy · (1 - y²)."""

    def formula(self):
        return TANH, {}

    def reference_forward(self, x):
        self.out = xp(x).tanh(x)
        return self.out

    def reference_backward(self, grad):
        y = self.out
        return grad * (1 - y * y)

    def slope_graph(self, x):
        t = x.tanh()
        return 1 - t * t


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)

GELU_ERF = Pointwise("gelu", forward="""
    cdf, density = normal_cdf_density(x)
    y = x * cdf
    slope = cdf + x * inv_sqrt_2pi * density
    """, saved=("slope",), backward="grad_input = grad * slope", scalars=("inv_sqrt_2pi",))
"""The forward keeps GELU's slope Φ(x) + x φ(x) (φ from the e^{-x²/2} Φ is computed with), so
the backward is one product and x need not be kept."""
GELU_IN_PLACE = ElementwiseKernel("gelu_in_place", reads=("x",), writes=("x",),
                                  body="x = x * normal_cdf(x)")
"""x ← GELU(x), for inference (``ffnn.ops.fast_inference.gelu_``): no slope, and one array
read and written (two names for one array would fail the loop's no-overlap check at run time
and leave it unvectorised, 7x slower)."""
GELU_TANH = Pointwise("gelu_tanh", forward="""
    u = sqrt_2_over_pi * (x + 0.044715 * x * x * x)
    e = exp_small(-2.0 * abs(u))
    s = 1.0 / (1.0 + e) if u >= 0 else e / (1.0 + e)
    y = x * s
    """, saved=("x", "s"), backward="""
    inner = sqrt_2_over_pi * (1.0 + 3.0 * 0.044715 * x * x)
    grad_input = grad * (s + 2.0 * x * s * (1.0 - s) * inner)
    """, scalars=("sqrt_2_over_pi",))
"""The tanh form as ½(1 + tanh u) = σ(2u) = s: y = x·s, dL/dx = dL/dy · (s + 2x·s(1 - s)·u'),
with no cancellation in 1 + tanh u where tanh u ≈ -1. (Keeping the slope instead of x and s,
as GELU and SiLU do, made its forward 30% slower than the backward it saved.)"""


class GELU(PointwiseOp):
    """y = x Φ(x), Φ the standard normal CDF;  dL/dx = dL/dy · (Φ(x) + x φ(x)).

    ``approximate='tanh'``: y = ½x (1 + t), t = tanh(√(2/π)(x + 0.044715x³));
    dL/dx = dL/dy · (½(1 + t) + ½x (1 - t²) √(2/π)(1 + 3·0.044715x²)).
    The exact form's forward keeps the slope (the factor of dL/dy), so its backward is one
    product, on the NumPy path and in the float32 kernels; the float64 kernels keep x and Φ
    (``GELU_ERF``), the tanh form x and ½(1 + t).
    """

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def forward(self, x, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(
                f"GELU approximate must be 'none' or 'tanh'. Received: {approximate!r}"
            )
        return super().forward(x, approximate)

    def formula(self, approximate="none"):
        if approximate == "tanh":
            return GELU_TANH, {"sqrt_2_over_pi": _SQRT_2_OVER_PI}
        return GELU_ERF, {"inv_sqrt_2pi": _INV_SQRT_2PI}

    def reference_forward(self, x, approximate="none"):
        m = xp(x)
        self.approximate = approximate
        if approximate == "tanh":
            self.x, self.t = x, m.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            return 0.5 * x * (1 + self.t)
        cdf = (0.5 * erfc(-x * _SQRT_HALF)).astype(x.dtype, copy=False)
        self.slope = cdf + x * (_INV_SQRT_2PI * m.exp(-0.5 * x * x))
        return x * cdf

    def reference_backward(self, grad):
        if self.approximate == "tanh":
            x, t = self.x, self.t
            inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner)
        return grad * self.slope

    def slope_graph(self, x, approximate="none"):
        if approximate == "tanh":  # y = x (1 + tanh u) / 2, u = √(2/π) (x + 0.044715 x³)
            c = math.sqrt(2 / math.pi)
            t = (c * (x + 0.044715 * x * x * x)).tanh()
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
        return cdf + x * ((-0.5) * x * x).exp() * (1 / math.sqrt(2 * math.pi))


SILU = Pointwise("silu", forward="""
    e = exp_small(-abs(x))
    s = 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    y = x * s
    slope = s * (1.0 + x * (1.0 - s))
    """, saved=("slope",), backward="grad_input = grad * slope")
"""The forward keeps the slope σ(x)(1 + x(1 - σ(x))): the backward is one product."""


class SiLU(PointwiseOp):
    """y = x σ(x);  dL/dx = dL/dy · σ(x)(1 + x(1 - σ(x)))."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return SILU, {}

    def reference_forward(self, x):
        s = stable_sigmoid(x)
        self.slope = s * (1 + x * (1 - s))
        return x * s

    def reference_backward(self, grad):
        return grad * self.slope

    def slope_graph(self, x):
        s = x.sigmoid()
        return s * (1 + x * (1 - s))


def log_softmax_array(x, dim: int):
    """log softmax along ``dim``: x - max - log Σ exp(x - max) (no overflow); empty for an
    empty x, as torch's (NumPy's max of no elements would raise)."""
    if x.size == 0:
        return x.copy()
    m = xp(x)
    shifted = x - x.max(axis=dim, keepdims=True)
    return shifted - m.log(m.exp(shifted).sum(axis=dim, keepdims=True))


class Softmax(Op):
    """yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``dim``;  dL/dx = y ⊙ (dL/dy - Σ(dL/dy ⊙ y))."""

    def forward(self, x, dim=-1):
        self.dim, self.rows = dim, accel.on_last_axis(x, dim)
        if self.rows:  # one compiled pass a row (NumPy: five passes over x)
            self.out = accel.softmax_last(x)
            return self.out
        if x.size == 0:  # empty, as torch's (NumPy's max of no elements would raise)
            self.out = x.copy()
            return self.out
        m = xp(x)
        e = m.exp(x - x.max(axis=dim, keepdims=True))
        self.out = e / e.sum(axis=dim, keepdims=True)
        return self.out

    def backward(self, grad):
        y = self.out
        if self.rows:
            return (accel.softmax_backward_last(y, grad),)
        return (y * (grad - (grad * y).sum(axis=self.dim, keepdims=True)),)

    def backward_graph(self, grad, x):
        dim = self.options["dim"]
        y = x.softmax(dim)
        return (y * (grad - (grad * y).sum(dim, keepdim=True)),)


class LogSoftmax(Op):
    """y = x - log Σ eˣ along ``dim``;  dL/dx = dL/dy - softmax(x) · Σ dL/dy."""

    def forward(self, x, dim=-1):
        self.dim, self.rows = dim, accel.on_last_axis(x, dim)
        if self.rows:  # one compiled pass a row, keeping softmax(x) for the backward
            self.out, self.prob = accel.log_softmax_last(x, keep=self.needs_input_grad[0])
            return self.out
        self.out = log_softmax_array(x, dim)
        return self.out

    def backward(self, grad):
        if self.rows:
            return (accel.log_softmax_backward_last(self.prob, grad),)
        softmax = xp(grad).exp(self.out)
        return (grad - softmax * grad.sum(axis=self.dim, keepdims=True),)

    def backward_graph(self, grad, x):
        dim = self.options["dim"]
        return (grad - x.softmax(dim) * grad.sum(dim, keepdim=True),)


ELU_FORMULA = Pointwise("elu", forward="""
    positive = not x <= 0
    negative = x if x < 0 else 0
    y = scale * (x if positive else alpha * expm1(negative))
    slope = scale * (1.0 if positive else alpha * exp_small(negative))
    """, saved=("slope",), backward="grad_input = grad * slope", scalars=("alpha", "scale"))
"""NaN takes the linear branch, as in torch's kernel (``x <= 0`` is false for it)."""


class ELU(PointwiseOp):
    """y = s·x if x > 0 else s·α(eˣ - 1);  dL/dx = dL/dy · s·(1 if x > 0 else α eˣ) (s: SELU's
    scale, else 1)."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self, alpha=1.0, scale=1.0):
        return ELU_FORMULA, {"alpha": alpha, "scale": scale}

    def reference_forward(self, x, alpha=1.0, scale=1.0):
        m = xp(x)
        positive, below = ~(x <= 0), m.minimum(x, 0)
        # α eˣ itself, not α(eˣ - 1) + α, which cancels to 0 below x ≈ -17 (float64)
        self.slope = (scale * m.where(positive, 1, alpha * m.exp(below))).astype(x.dtype)
        return (scale * m.where(positive, x, alpha * m.expm1(below))).astype(x.dtype,
                                                                            copy=False)

    def reference_backward(self, grad):
        return grad * self.slope

    def slope_graph(self, x, alpha=1.0, scale=1.0):
        positive = constant_like(x, ~(x._data <= 0))
        return scale * (positive + (1 - positive) * alpha * x.clamp(max=0).exp())


SOFTPLUS = Pointwise("softplus", forward="""
    z = beta * x
    e = exp_small(-abs(z))
    linear = z > threshold
    y = x if linear else ((z if z > 0 else 0) + log1p(e)) / beta
    slope = 1.0 if linear else (1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e))
    """, saved=("slope",), backward="grad_input = grad * slope", scalars=("beta", "threshold"))


class Softplus(PointwiseOp):
    """y = log(1 + e^{βx}) / β (y = x where βx > threshold);  dL/dx = dL/dy · σ(βx) (1 on the
    linear part). Computed as (max(βx, 0) + log(1 + e^{-|βx|}))/β, which cannot overflow."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self, beta=1.0, threshold=20.0):
        return SOFTPLUS, {"beta": beta, "threshold": threshold}

    def reference_forward(self, x, beta=1.0, threshold=20.0):
        m = xp(x)
        z = beta * x
        self.linear = z > threshold
        self.slope = m.where(self.linear, 1, stable_sigmoid(z)).astype(x.dtype)
        soft = (m.maximum(z, 0) + m.log1p(m.exp(-m.abs(z)))) / beta
        return m.where(self.linear, x, soft).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        return grad * self.slope

    def slope_graph(self, x, beta=1.0, threshold=20.0):
        linear = constant_like(x, beta * x._data > threshold)
        return linear + (1 - linear) * (beta * x).sigmoid()


class PReLU(Op):
    """y = x if x > 0 else a·x with a learned slope ``a`` (one, or one per channel on axis 1);
    dL/dx = dL/dy · (1 if x > 0 else a),  dL/da = Σ dL/dy · min(x, 0) over all but the channels.

    One compiled pass each way (``ffnn.kernels.prelu``) where ``accel`` takes x; else NumPy."""

    def forward(self, x, weight):
        self.weight_shape = weight.shape
        self.x, self.weight = x, weight
        self.compiled = accel.usable(x) and weight.dtype == x.dtype and (
            weight.size == 1 or (x.ndim >= 2 and weight.shape == (x.shape[1],)))
        if self.compiled:
            from ffnn.kernels import prelu

            y = np.empty_like(x)
            prelu.forward(*self._channels(x, y))
            return y
        self.a = weight.reshape((1, -1) + (1,) * (x.ndim - 2)) if x.ndim >= 2 else weight
        return _where(x > 0, x, self.a * x).astype(x.dtype, copy=False)

    def _channels(self, x: np.ndarray, *arrays: np.ndarray) -> tuple:
        """(x, slopes [c], *arrays) as [n, c, l] views: one shared slope repeated along the
        last axis (its sums vectorise there), else the channels on axis 1."""
        if self.weight.size == 1:
            width = x.shape[-1] if x.ndim else 1
            slopes = np.full(width, self.weight.reshape(()), x.dtype)
            shape = (-1, width, 1)
        else:
            slopes, shape = self.weight, (x.shape[0], x.shape[1], -1)
        return (x.reshape(shape), slopes, *[a.reshape(shape) for a in arrays])

    def backward(self, grad):
        if self.compiled:
            return self._compiled_backward(accel.dense(grad, self.x.shape, self.x.dtype))
        positive = self.x > 0
        grad_x = _where(positive, grad, grad * self.a) if self.needs_input_grad[0] else None
        grad_a = None
        if self.needs_input_grad[1]:
            contribution = _where(positive, 0, grad * self.x)
            if self.weight_shape[0] == 1 or self.x.ndim < 2:
                grad_a = contribution.sum().reshape(self.weight_shape)
            else:
                axes = (0,) + tuple(range(2, self.x.ndim))
                grad_a = contribution.sum(axis=axes).reshape(self.weight_shape)
        return grad_x, grad_a

    def backward_graph(self, grad, x, weight):
        """The two gradients above as tensor ops: x > 0 a constant mask m, dL/dx = g·(m +
        (1 - m)·a), dL/da = Σ g·(1 - m)·x over every axis but the channels'."""
        negative = constant_like(x, x._data <= 0)
        channels = weight.numel() > 1 and x.ndim >= 2
        a = weight.reshape((1, -1) + (1,) * (x.ndim - 2)) if channels else weight
        grad_x = grad_a = None
        if self.needs_input_grad[0]:
            grad_x = grad * (1 - negative) + grad * negative * a
        if self.needs_input_grad[1]:
            contribution = grad * negative * x
            axes = (0, *range(2, x.ndim)) if channels else tuple(range(x.ndim))
            grad_a = contribution.sum(dim=axes).reshape(weight.shape) if axes else \
                contribution.reshape(weight.shape)
        return grad_x, grad_a

    def _compiled_backward(self, grad: np.ndarray) -> tuple:
        from ffnn.kernels import prelu

        x = self.x
        grad_x = np.empty_like(x) if self.needs_input_grad[0] else np.empty((0,), x.dtype)
        x3, slopes, grad3 = self._channels(x, grad)
        grad_x3 = grad_x.reshape(x3.shape) if grad_x.size else grad_x.reshape(0, 1, 1)
        sums = np.zeros(slopes.shape, np.float64)
        prelu.backward(x3, slopes, grad3, grad_x3, sums)
        grad_a = None
        if self.needs_input_grad[1]:
            total = sums.sum() if self.weight.size == 1 else sums
            grad_a = np.asarray(total, x.dtype).reshape(self.weight_shape)
        return (grad_x if grad_x.size else None), grad_a


def _where(condition, a, b):
    """``where`` without NumPy's branch per element where the arrays allow
    (``selection.select``)."""
    if type(condition) is np.ndarray and type(b) is np.ndarray:
        return selection.select(condition, a, b)
    return xp(b).where(condition, a, b)
