"""Element-wise ops with NumPy broadcasting. Each backward sums its gradient back to the
shape of its input (:func:`unbroadcast`). The ops whose values may be ±inf or NaN (a
division by 0, the log or root of 0 or of a negative number, an overflowing power) give them
without NumPy's RuntimeWarnings, as torch does (``quiet``)."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops import selection

quiet = np.errstate(divide="ignore", invalid="ignore", over="ignore")
"""A decorator: the function's ±inf and NaN without NumPy's RuntimeWarnings (~1 µs a call)."""


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


def unbroadcast_graph(grad, shape: tuple):
    """``unbroadcast`` on a gradient tensor, recorded (``Op.backward_graph``)."""
    if tuple(grad.shape) == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    return (grad.sum(dim=axes, keepdim=True) if axes else grad).reshape(tuple(shape))


def constant_like(like, array):
    """``array`` in ``like``'s dtype as a tensor outside any graph (a mask, a slope, a
    statistic), for a tensor-form backward on ``like`` (``Op.backward_graph``)."""
    return type(like)._make(xp(like._data).asarray(array, dtype=like.dtype), False, None)


class Add(Op):
    """y = a + b;  dL/da = dL/dy,  dL/db = dL/dy."""

    may_save_nothing = True

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, grad):
        sa, sb = self.shapes
        return (
            unbroadcast(grad, sa) if self.needs_input_grad[0] else None,
            unbroadcast(grad, sb) if self.needs_input_grad[1] else None,
        )

    def backward_graph(self, grad, a, b):
        return unbroadcast_graph(grad, a.shape), unbroadcast_graph(grad, b.shape)


class Sub(Op):
    """y = a - b;  dL/da = dL/dy,  dL/db = -dL/dy."""

    may_save_nothing = True

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, grad):
        sa, sb = self.shapes
        return (
            unbroadcast(grad, sa) if self.needs_input_grad[0] else None,
            unbroadcast(-grad, sb) if self.needs_input_grad[1] else None,
        )

    def backward_graph(self, grad, a, b):
        return unbroadcast_graph(grad, a.shape), unbroadcast_graph(-grad, b.shape)


class Mul(Op):
    """y = a · b;  dL/da = dL/dy · b,  dL/db = dL/dy · a."""

    def forward(self, a, b):
        # each factor is kept only for the other's gradient (torch's: ``h * 2`` keeps
        # nothing of h, so h may change in place before the backward)
        needs = self.needs_input_grad
        self.shapes = a.shape, b.shape
        self.a, self.b = a if needs[1] else None, b if needs[0] else None
        return a * b

    def backward(self, grad):
        (a_shape, b_shape), needs = self.shapes, self.needs_input_grad
        return (
            unbroadcast(grad * self.b, a_shape) if needs[0] else None,
            unbroadcast(grad * self.a, b_shape) if needs[1] else None,
        )

    def backward_graph(self, grad, a, b):
        return (unbroadcast_graph(grad * b, a.shape) if self.needs_input_grad[0] else None,
                unbroadcast_graph(grad * a, b.shape) if self.needs_input_grad[1] else None)


class Div(Op):
    """y = a / b;  dL/da = dL/dy / b,  dL/db = -dL/dy · a / b²."""

    @quiet
    def forward(self, a, b):
        self.shape = a.shape  # a itself only for dL/db (``h / 2`` keeps nothing of h)
        self.a, self.b = a if self.needs_input_grad[1] else None, b
        return a / b

    @quiet
    def backward(self, grad):
        a, b = self.a, self.b
        grad_a = grad / b
        return (
            unbroadcast(grad_a, self.shape) if self.needs_input_grad[0] else None,
            unbroadcast(-grad_a * a / b, b.shape) if self.needs_input_grad[1] else None,
        )

    def backward_graph(self, grad, a, b):
        grad_a = grad / b
        return (unbroadcast_graph(grad_a, a.shape) if self.needs_input_grad[0] else None,
                unbroadcast_graph(-grad_a * a / b, b.shape) if self.needs_input_grad[1]
                else None)


class Neg(Op):
    """y = -x;  dL/dx = -dL/dy."""

    may_save_nothing = True

    def forward(self, x):
        return -x

    def backward(self, grad):
        return (-grad,)

    def backward_graph(self, grad, x):
        return (-grad,)


def power(x, p):
    """xᵖ for a constant p as torch computes it: x·x for 2, x·x·x for 3, 1/(x·x) for -2, √x
    and 1/√x for ±½ (NumPy's ``power`` calls ``pow`` per element for 3 and -2, ~20x slower,
    and differs from these in the last bit), ``pow`` for other exponents."""
    if getattr(x, "dtype", None) is None or x.dtype.kind != "f":
        return x**p
    if p == 3:
        return x * x * x
    if p == -2:
        return 1 / (x * x)
    if p == 0.5:
        return xp(x).sqrt(x)
    if p == -0.5:
        return 1 / xp(x).sqrt(x)
    return x**p


def integer_power(a, b):
    """aᵇ of signed integer arrays (one dtype) as torch's: where b < 0, 1 for a = 1, ±1 for
    a = -1 (by b's parity) and 0 elsewhere, 0 ** -1 included (NumPy raises)."""
    m = xp(a)
    negative = b < 0
    y = a ** m.where(negative, 0, b).astype(b.dtype, copy=False)
    small = m.where(a == 1, 1, m.where(a == -1, 1 - 2 * (b & 1), 0))
    return m.where(negative, small, y).astype(y.dtype, copy=False)


class PowScalar(Op):
    """y = xᵖ for a constant p;  dL/dx = dL/dy · p · xᵖ⁻¹."""

    @quiet
    def forward(self, x, exponent):
        self.x, self.exponent = x, exponent
        return power(x, exponent)

    @quiet
    def backward(self, grad):
        p = self.exponent
        if p == 0:  # y = 1: zero gradient, also at x = 0 (where x⁻¹ would give nan)
            return (xp(grad).zeros_like(grad),)
        return (grad * (p * power(self.x, p - 1)),)

    def backward_graph(self, grad, x):
        p = self.options["exponent"]
        return (grad * 0,) if p == 0 else (grad * (p * x ** (p - 1)),)


class Pow(Op):
    """y = aᵇ;  dL/da = dL/dy · b · aᵇ⁻¹,  dL/db = dL/dy · y · ln a."""

    @quiet
    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = integer_power(a, b) if a.dtype.kind == "i" and (b < 0).any() else a**b
        return self.out

    @quiet
    def backward(self, grad):
        a, b = self.a, self.b
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(grad * b * a ** (b - 1), a.shape)
        if self.needs_input_grad[1]:  # torch's: 0 where a = 0 and b ≥ 0, else y ln a (NaN
            m = xp(a)                   # for a < 0)
            zero = m.logical_and(a == 0, b >= 0)
            grad_b = unbroadcast(grad * m.where(zero, 0, self.out * m.log(a)), b.shape)
        return grad_a, grad_b

    def backward_graph(self, grad, a, b):
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast_graph(grad * b * a ** (b - 1), a.shape)
        if self.needs_input_grad[1]:  # as backward: 0 where a = 0 and b ≥ 0, else y ln a
            zero = np.logical_and(a._data == 0, b._data >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                term = a ** b * a.log()
            term = Where.apply(constant_like(term, 0), term, condition=zero)
            grad_b = unbroadcast_graph(grad * term, b.shape)
        return grad_a, grad_b


class Exp(Op):
    """y = eˣ;  dL/dx = dL/dy · y."""

    def forward(self, x):
        self.out = xp(x).exp(x)
        return self.out

    def backward(self, grad):
        return (grad * self.out,)

    def backward_graph(self, grad, x):
        return (grad * x.exp(),)


class Log(Op):
    """y = ln x;  dL/dx = dL/dy / x."""

    @quiet
    def forward(self, x):
        self.x = x
        return xp(x).log(x)

    @quiet
    def backward(self, grad):
        return (grad / self.x,)

    def backward_graph(self, grad, x):
        return (grad / x,)


class Sqrt(Op):
    """y = √x;  dL/dx = dL/dy / (2y)."""

    @quiet
    def forward(self, x):
        self.out = xp(x).sqrt(x)
        return self.out

    @quiet
    def backward(self, grad):
        return (grad / (2 * self.out),)

    def backward_graph(self, grad, x):
        return (grad / (2 * x.sqrt()),)


class Abs(Op):
    """y = |x|;  dL/dx = dL/dy · sign(x)  (0 at x = 0, as torch)."""

    def forward(self, x):
        self.x = x
        return xp(x).abs(x)

    def backward(self, grad):
        return (grad * xp(self.x).sign(self.x),)

    def backward_graph(self, grad, x):
        return (grad * constant_like(x, xp(x._data).sign(x._data)),)


class Staircase(Op):
    """y = f(x) for ``f`` flat almost everywhere (round, floor, ceil, trunc, sign); dL/dx = 0,
    as torch's: the result stays in the graph, so a loss through it backpropagates zeros
    instead of failing for want of a gradient."""

    def forward(self, x, f=None):
        self.shape, self.dtype = x.shape, x.dtype
        return f(x)

    def backward(self, grad):
        return (xp(grad).zeros(self.shape, self.dtype),)

    def backward_graph(self, grad, x):
        return (grad * 0,)


def _is_zero(bound) -> bool:
    """Whether a clamp bound is the number 0 (an array bound is not)."""
    return getattr(bound, "ndim", 0) == 0 and bound == 0


class Clamp(Op):
    """y = min(max(x, lo), hi), x on a tie (a zero's sign);  dL/dx = dL/dy where
    lo ≤ x ≤ hi, else 0 (torch's rule)."""

    def forward(self, x, lo=None, hi=None):
        m = xp(x)
        self.mask = m.ones(x.shape, dtype=bool)
        if lo is not None:
            self.mask &= x >= lo
        if hi is not None:
            self.mask &= x <= hi
        if _is_zero(lo) or _is_zero(hi):  # x on a tie, as torch's: clamp(-0., min=0.) is -0.
            y = x if lo is None else m.maximum(lo, x)  # NumPy's: the second on a tie
            return (y if hi is None else m.minimum(hi, y)).astype(x.dtype, copy=False)
        return m.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, grad):
        """torch's where(mask, grad, 0): an inf or NaN gradient from above stays out of the
        clamped entries (a product with the mask made 0·inf = NaN there)."""
        m = xp(grad)
        return (m.where(self.mask, grad, m.zeros((), dtype=grad.dtype)),)

    def backward_graph(self, grad, x):
        return (Where.apply(grad, constant_like(grad, 0), condition=self.mask),)


class Maximum(Op):
    """y = max(a, b);  the gradient goes to the larger input, split evenly on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp(a).maximum(a, b)

    @staticmethod
    def _beaten(a, b):
        """Where ``a`` loses to ``b`` (gets no gradient)."""
        return a < b

    def backward(self, grad):
        """torch's: dL/dy halved where a == b, 0 written where the other input wins (a NaN
        passes dL/dy to both)."""
        a, b, m = self.a, self.b, xp(grad)
        shared = m.where(a == b, grad / 2, grad)
        zero = grad.dtype.type(0)
        return (
            unbroadcast(m.where(self._beaten(a, b), zero, shared), a.shape)
            if self.needs_input_grad[0] else None,
            unbroadcast(m.where(self._beaten(b, a), zero, shared), b.shape)
            if self.needs_input_grad[1] else None,
        )

    def backward_graph(self, grad, a, b):
        wins = self._beaten(b._data, a._data)
        share_a = constant_like(grad, wins + 0.5 * (a._data == b._data))
        return (unbroadcast_graph(grad * share_a, a.shape) if self.needs_input_grad[0] else None,
                unbroadcast_graph(grad * (1 - share_a), b.shape) if self.needs_input_grad[1]
                else None)


class Minimum(Maximum):
    """y = min(a, b);  the gradient goes to the smaller input, split evenly on ties (NaN
    wins; of two zeros the second, -0. against 0., as NumPy's)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp(a).minimum(a, b)

    @staticmethod
    def _beaten(a, b):
        return a > b


class Cast(Op):
    """y = x as another dtype;  dL/dx = dL/dy cast back."""

    may_save_nothing = True

    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return (grad.astype(self.dtype),)

    def backward_graph(self, grad, x):
        return (grad.to(x.dtype),)


class Clone(Op):
    """y = a copy of x;  dL/dx = dL/dy."""

    may_save_nothing = True

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return (grad,)

    def backward_graph(self, grad, x):
        return (grad,)


class Sin(Op):
    """y = sin x;  dL/dx = dL/dy · cos x."""

    def forward(self, x):
        self.x = x
        return xp(x).sin(x)

    def backward(self, grad):
        return (grad * xp(self.x).cos(self.x),)

    def backward_graph(self, grad, x):
        return (grad * x.cos(),)


class Cos(Op):
    """y = cos x;  dL/dx = -dL/dy · sin x."""

    def forward(self, x):
        self.x = x
        return xp(x).cos(x)

    def backward(self, grad):
        return (-grad * xp(self.x).sin(self.x),)

    def backward_graph(self, grad, x):
        return (-grad * x.sin(),)


class Log1p(Op):
    """y = ln(1 + x), accurate for small x;  dL/dx = dL/dy / (1 + x)."""

    @quiet
    def forward(self, x):
        self.x = x
        return xp(x).log1p(x)

    @quiet
    def backward(self, grad):
        return (grad / (1 + self.x),)

    def backward_graph(self, grad, x):
        return (grad / (1 + x),)


class Expm1(Op):
    """y = eˣ - 1, accurate for small x;  dL/dx = dL/dy · (y + 1)."""

    def forward(self, x):
        self.out = xp(x).expm1(x)
        return self.out

    def backward(self, grad):
        return (grad * (self.out + 1),)

    def backward_graph(self, grad, x):
        return (grad * x.exp(),)


class Where(Op):
    """y = a where condition else b (``condition`` a fixed boolean array);
    dL/da = dL/dy where condition, dL/db = dL/dy elsewhere (each summed to its shape).
    Large float operands take the compiled select (``ffnn.ops.selection``)."""

    def forward(self, a, b, condition):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        found = selection.where_forward(condition, a, b)
        if found is None:
            self.full_condition = None
            return xp(a).where(condition, a, b)
        y, self.full_condition = found
        self.dtype = y.dtype
        return y

    def backward(self, grad):
        m, (sa, sb) = xp(grad), self.shapes
        need_a, need_b = self.needs_input_grad[:2]
        if self.full_condition is not None:
            grad_a, grad_b = selection.where_backward(grad, self.full_condition,
                                                      self.dtype, need_a, need_b)
            return (unbroadcast(grad_a, sa) if need_a else None,
                    unbroadcast(grad_b, sb) if need_b else None)
        zero = m.zeros((), dtype=grad.dtype)
        return (
            unbroadcast(m.where(self.condition, grad, zero), sa) if need_a else None,
            unbroadcast(m.where(self.condition, zero, grad), sb) if need_b else None,
        )

    def backward_graph(self, grad, a, b):
        zero = constant_like(grad, 0)
        condition = self.options["condition"]
        return (unbroadcast_graph(Where.apply(grad, zero, condition=condition), a.shape)
                if self.needs_input_grad[0] else None,
                unbroadcast_graph(Where.apply(zero, grad, condition=condition), b.shape)
                if self.needs_input_grad[1] else None)
