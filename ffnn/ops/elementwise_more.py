"""Element-wise ops beyond ``elementwise``: the inverse trigonometric and hyperbolic
functions, tan, 2ˣ, sinc, the special functions ln|Γ|, ψ⁽ⁿ⁾ (digamma, trigamma, …) and erf⁻¹
(their values from ``special_more``), and the two-input functions atan2, hypot, logaddexp,
xlogy, copysign, fmax/fmin, heaviside and nextafter. Each op's derivative is under its
forward, as NumPy (``backward``) and as tensor operations (``backward_graph``,
``create_graph=True``).
"""

from __future__ import annotations

import math

import numpy as np

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops.elementwise import Where, constant_like, unbroadcast, unbroadcast_graph
from ffnn.ops.special_more import HALF_SQRT_PI, erfinv, lgamma, ndtri, polygamma

LN2 = math.log(2.0)
SQRT_TWO_PI = math.sqrt(2 * math.pi)


# ----- one-input ops ---------------------------------------------------------------------
class Unary(Op):
    """y = f(x) element-wise;  dL/dx = dL/dy · f'(x). A subclass gives ``function`` and
    ``slope`` on arrays and ``slope_graph`` (f' as tensor operations)."""

    def function(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def slope(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def slope_graph(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x, **options):
        with np.errstate(all="ignore"):
            y = self.function(x, **options)
        self.x, self.out = x, y
        return y

    def backward(self, grad):
        with np.errstate(all="ignore"):
            return (grad * self.slope(self.x, self.out),)

    def backward_graph(self, grad, x):
        return (grad * self.slope_graph(x),)


class Tan(Unary):
    """y = tan x;  dL/dx = dL/dy · (1 + y²)."""

    def function(self, x):
        return xp(x).tan(x)

    def slope(self, x, y):
        return 1 + y * y

    def slope_graph(self, x):
        return 1 + Tan.apply(x) ** 2


class Asin(Unary):
    """y = asin x;  dL/dx = dL/dy / √(1 - x²)."""

    def function(self, x):
        return xp(x).arcsin(x)

    def slope(self, x, y):
        return 1 / xp(x).sqrt(1 - x * x)

    def slope_graph(self, x):
        return 1 / (1 - x * x).sqrt()


class Acos(Unary):
    """y = acos x;  dL/dx = -dL/dy / √(1 - x²)."""

    def function(self, x):
        return xp(x).arccos(x)

    def slope(self, x, y):
        return -1 / xp(x).sqrt(1 - x * x)

    def slope_graph(self, x):
        return -1 / (1 - x * x).sqrt()


class Atan(Unary):
    """y = atan x;  dL/dx = dL/dy / (1 + x²)."""

    def function(self, x):
        return xp(x).arctan(x)

    def slope(self, x, y):
        return 1 / (1 + x * x)

    def slope_graph(self, x):
        return 1 / (1 + x * x)


class Asinh(Unary):
    """y = asinh x;  dL/dx = dL/dy / √(x² + 1)."""

    def function(self, x):
        return xp(x).arcsinh(x)

    def slope(self, x, y):
        return 1 / xp(x).sqrt(x * x + 1)

    def slope_graph(self, x):
        return 1 / (x * x + 1).sqrt()


class Acosh(Unary):
    """y = acosh x;  dL/dx = dL/dy / √(x² - 1)."""

    def function(self, x):
        return xp(x).arccosh(x)

    def slope(self, x, y):
        return 1 / xp(x).sqrt(x * x - 1)

    def slope_graph(self, x):
        return 1 / (x * x - 1).sqrt()


class Atanh(Unary):
    """y = atanh x;  dL/dx = dL/dy / (1 - x²)."""

    def function(self, x):
        return xp(x).arctanh(x)

    def slope(self, x, y):
        return 1 / (1 - x * x)

    def slope_graph(self, x):
        return 1 / (1 - x * x)


class Exp2(Unary):
    """y = 2ˣ;  dL/dx = dL/dy · y · ln 2."""

    def function(self, x):
        return xp(x).exp2(x)

    def slope(self, x, y):
        return y * LN2

    def slope_graph(self, x):
        return Exp2.apply(x) * LN2


class Sinc(Unary):
    """y = sin(πx)/(πx), 1 at x = 0;  dL/dx = dL/dy · (πx cos πx - sin πx)/(πx²), 0 at x = 0.
    The tensor form is -π²x/3 at x = 0 (the slope's Taylor term), so the second derivative
    there is the true -π²/3 (torch's is NaN)."""

    def function(self, x):
        m, px = xp(x), math.pi * x
        return m.where(x == 0, x.dtype.type(1), m.sin(px) / px)

    def slope(self, x, y):
        m, px = xp(x), math.pi * x
        return m.where(x == 0, x.dtype.type(0), (px * m.cos(px) - m.sin(px)) / (px * x))

    def slope_graph(self, x):
        zero = x._data == 0
        safe = Where.apply(constant_like(x, 1), x, condition=zero)
        px = math.pi * safe
        slope = (px * px.cos() - px.sin()) / (px * safe)
        return Where.apply(x * (-math.pi**2 / 3), slope, condition=zero)


class Erfinv(Unary):
    """y = erf⁻¹ x;  dL/dx = dL/dy · √π/2 · e^{y²}."""

    def function(self, x):
        return erfinv(x)

    def slope(self, x, y):
        return HALF_SQRT_PI * xp(y).exp(y * y)

    def slope_graph(self, x):
        return HALF_SQRT_PI * (Erfinv.apply(x) ** 2).exp()


class Ndtri(Unary):
    """y = Φ⁻¹(x), the standard normal quantile;  dL/dx = dL/dy · √(2π) e^{y²/2}."""

    def function(self, x):
        return ndtri(x)

    def slope(self, x, y):
        return SQRT_TWO_PI * xp(y).exp(y * y / 2)

    def slope_graph(self, x):
        return SQRT_TWO_PI * (Ndtri.apply(x) ** 2 / 2).exp()


class Lgamma(Unary):
    """y = ln|Γ(x)|;  dL/dx = dL/dy · ψ(x) (digamma)."""

    def function(self, x):
        return lgamma(x)

    def slope(self, x, y):
        return polygamma(0, x)

    def slope_graph(self, x):
        return Polygamma.apply(x, n=0)


class Polygamma(Unary):
    """y = ψ⁽ⁿ⁾(x) (n = 0: digamma, 1: trigamma);  dL/dx = dL/dy · ψ⁽ⁿ⁺¹⁾(x)."""

    def function(self, x, n=0):
        self.n = n
        return polygamma(n, x)

    def slope(self, x, y):
        return polygamma(self.n + 1, x)

    def slope_graph(self, x):
        return Polygamma.apply(x, n=self.options["n"] + 1)


class Frexp(Unary):
    """The mantissa m of x = m · 2ᵉ (½ ≤ |m| < 1, the integer e apart);  dL/dx = dL/dy · 2⁻ᵉ."""

    def function(self, x):
        mantissa, exponent = xp(x).frexp(x)
        self.scale = xp(x).ldexp(x.dtype.type(1), -exponent)
        return mantissa

    def slope(self, x, y):
        return self.scale

    def slope_graph(self, x):
        return constant_like(x, self.scale)


# ----- two-input ops ---------------------------------------------------------------------
class Binary(Op):
    """y = f(a, b) with NumPy broadcasting;  dL/da = dL/dy · ∂f/∂a, dL/db = dL/dy · ∂f/∂b, each
    summed back to its input's shape. A subclass gives ``function``, ``slopes`` (arrays; None
    for a derivative that is 0 everywhere) and ``slopes_graph`` (tensors, or None)."""

    def function(self, a, b):  # pragma: no cover - abstract
        raise NotImplementedError

    def slopes(self, a, b, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def slopes_graph(self, a, b):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, a, b, **options):
        with np.errstate(all="ignore"):
            y = self.function(a, b, **options)
        self.a, self.b, self.out = a, b, y
        return y

    def backward(self, grad):
        with np.errstate(all="ignore"):
            slopes = self.slopes(self.a, self.b, self.out)
        return tuple(
            None if not need else xp(grad).zeros(x.shape, grad.dtype) if slope is None
            else unbroadcast(grad * slope, x.shape)
            for need, x, slope in zip(self.needs_input_grad, (self.a, self.b), slopes))

    def backward_graph(self, grad, a, b):
        return tuple(
            None if not need else constant_like(grad, xp(grad._data).zeros(x.shape))
            if slope is None else unbroadcast_graph(grad * slope, x.shape)
            for need, x, slope in zip(self.needs_input_grad, (a, b), self.slopes_graph(a, b)))


def _masked_reciprocal(r):
    """1/r, and 0 where r = 0 (a tensor)."""
    nonzero = r._data != 0
    safe = Where.apply(r, constant_like(r, 1), condition=nonzero)
    return Where.apply(1 / safe, constant_like(r, 0), condition=nonzero)


class Atan2(Binary):
    """y = atan2(a, b), the angle of the point (b, a);  ∂y/∂a = b/(a² + b²),
    ∂y/∂b = -a/(a² + b²), both 0 at the origin (torch's)."""

    def function(self, a, b):
        return xp(a).arctan2(a, b)

    def slopes(self, a, b, y):
        r = a * a + b * b
        reciprocal = xp(r).where(r == 0, 0, 1 / r)
        return b * reciprocal, -a * reciprocal

    def slopes_graph(self, a, b):
        reciprocal = _masked_reciprocal(a * a + b * b)
        return b * reciprocal, -a * reciprocal


class Hypot(Binary):
    """y = √(a² + b²) without overflow;  ∂y/∂a = a/y, ∂y/∂b = b/y (nan at the origin, as
    torch)."""

    def function(self, a, b):
        return xp(a).hypot(a, b)

    def slopes(self, a, b, y):
        return a / y, b / y

    def slopes_graph(self, a, b):
        y = Hypot.apply(a, b)
        return a / y, b / y


class LogAddExp(Binary):
    """y = ln(eᵃ + eᵇ) (``base2``: log₂(2ᵃ + 2ᵇ)), without overflow;
    ∂y/∂a = 1/(1 + e^{b-a}) (1/(1 + 2^{b-a})), ∂y/∂b = 1/(1 + e^{a-b})."""

    def function(self, a, b, base2=False):
        self.base2 = base2
        m = xp(a)
        return m.logaddexp2(a, b) if base2 else m.logaddexp(a, b)

    def slopes(self, a, b, y):
        power = xp(a).exp2 if self.base2 else xp(a).exp
        return 1 / (1 + power(b - a)), 1 / (1 + power(a - b))

    def slopes_graph(self, a, b):
        def power(t):
            return Exp2.apply(t) if self.options["base2"] else t.exp()

        return 1 / (1 + power(b - a)), 1 / (1 + power(a - b))


def xlogy(a, b):
    """a · ln b, 0 where a = 0, nan where b is nan (torch's)."""
    m = xp(a, b)
    with np.errstate(all="ignore"):
        return m.where(m.isnan(b), m.nan, m.where(a == 0, 0, a * m.log(b))).astype(
            m.result_type(a, b), copy=False)


class Xlogy(Binary):
    """y = a · ln b (0 where a = 0);  dL/da = xlogy(dL/dy, b), 0 where a = 0 and b ≤ 0, and
    dL/db = dL/dy · a/b (torch's)."""

    def function(self, a, b):
        return xlogy(a, b)

    def backward(self, grad):
        a, b = self.a, self.b
        need_a, need_b = self.needs_input_grad[:2]
        with np.errstate(all="ignore"):
            grad_a = xp(grad).where((a == 0) & (b <= 0), 0, xlogy(grad, b)) if need_a else None
            grad_b = grad * a / b if need_b else None
        return (unbroadcast(grad_a, a.shape) if need_a else None,
                unbroadcast(grad_b, b.shape) if need_b else None)

    def backward_graph(self, grad, a, b):
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            masked = (a._data == 0) & (b._data <= 0)
            grad_a = Where.apply(constant_like(grad, 0), Xlogy.apply(grad, b), condition=masked)
            grad_a = unbroadcast_graph(grad_a, a.shape)
        if self.needs_input_grad[1]:
            grad_b = unbroadcast_graph(grad * a / b, b.shape)
        return grad_a, grad_b


class Copysign(Binary):
    """y = |a| with the sign of b;  ∂y/∂a = y/a (±1; 0 where a = 0), ∂y/∂b = 0."""

    def function(self, a, b):
        return xp(a).copysign(a, b)

    def slopes(self, a, b, y):
        return xp(a).where(a == 0, 0, y / a).astype(y.dtype, copy=False), None

    def slopes_graph(self, a, b):
        with np.errstate(all="ignore"):
            return constant_like(a, self.slopes(a._data, b._data, self.out)[0]), None


class FMax(Binary):
    """y = max(a, b) (``smallest``: min), a NaN ignored when the other is a number, a on a
    tie (fmax(0, -0) = 0, fmax(-0, 0) = -0, as torch's);
    ∂y/∂a = 1 where a ≥ b (a ≤ b) or b is NaN, else 0;  ∂y/∂b = 1 - ∂y/∂a (torch's)."""

    def function(self, a, b, smallest=False):
        self.smallest = smallest
        takes_a, _ = self.slopes(a, b, None)
        return xp(a).where(takes_a, a, b)

    def slopes(self, a, b, y):
        takes_a = ((a <= b) if self.smallest else (a >= b)) | xp(b).isnan(b)
        return takes_a, ~takes_a

    def slopes_graph(self, a, b):
        takes_a, takes_b = self.slopes(a._data, b._data, None)
        return constant_like(a, takes_a), constant_like(b, takes_b)


class NextAfter(Binary):
    """y = the next float after a towards b;  ∂y/∂a = 1 where a ≠ b else 0, ∂y/∂b = 0
    (torch's)."""

    def function(self, a, b):
        return xp(a).nextafter(a, b)

    def slopes(self, a, b, y):
        return a != b, None

    def slopes_graph(self, a, b):
        return constant_like(a, a._data != b._data), None


class Heaviside(Op):
    """y = 0 for x < 0, ``values`` at x = 0, 1 for x > 0. torch has no derivative for it: a
    backward through it raises its error."""

    def forward(self, x, values):
        m = xp(x)
        return m.where(x == 0, values, x > 0).astype(m.result_type(x, values), copy=False)

    def backward(self, grad):
        raise RuntimeError("derivative for aten::heaviside is not implemented")

    def backward_graph(self, grad, x, values):
        return self.backward(grad)
