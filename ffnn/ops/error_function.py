"""``erf`` and ``erfc`` (``torch.erf``: a GELU written out as ½x(1 + erf(x/√2))).

    erf x = 2/√π ∫₀ˣ e^{-t²} dt,   d erf/dx = 2/√π · e^{-x²};   erfc x = 1 - erf x.

The compiled path of ``erf`` builds on Φ (the standard normal CDF on SIMD lanes, as GELU):
erf x = sign(x) (2Φ(√2|x|) - 1) for |x| ≥ ½, where 2Φ - 1 ≥ 0.52 does not cancel, and the
Taylor series x · 2/√π Σₙ (-x²)ⁿ / (n!(2n+1)) below (14 terms, the last < 1e-19). The
forward keeps the slope 2/√π · e^{-x²} (e^{-x²} of x² rounded once, as torch's), so the
backward is one product. Float64 within 5 ulps of SciPy's erf, float32 within 2.5. The NumPy path
(``ffnn.ops.special``) stays the reference; ``erfc`` has only it (its right tail needs more
than 1 - erf).
"""

from __future__ import annotations

import math

from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops import special
from ffnn.ops.activations import MULTI_PASS_MIN_SIZE, PointwiseOp
from ffnn.ops.pointwise import Pointwise

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
"""2/√π, the factor of erf's derivative."""
TAYLOR_TERMS = 14
_TAYLOR = [TWO_OVER_SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1))
           for n in range(TAYLOR_TERMS)]
_HORNER = "0.0"
for _c in reversed(_TAYLOR):
    _HORNER = f"({_HORNER}) * t + {_c!r}"

ERF = Pointwise("erf", forward=f"""
    a = abs(x)
    t = x * x
    series = x * ({_HORNER})
    away = 2.0 * normal_cdf(a * sqrt_2) - 1.0
    y = series if a < 0.5 else (away if x >= 0.0 else -away)
    slope = two_over_sqrt_pi * exp_small(-t)
    """, saved=("slope",), backward="grad_input = grad * slope",
    scalars=("sqrt_2", "two_over_sqrt_pi"))


class Erf(PointwiseOp):
    """y = erf x;  dL/dx = dL/dy · 2/√π · e^{-x²}."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def formula(self):
        return ERF, {"sqrt_2": math.sqrt(2.0), "two_over_sqrt_pi": TWO_OVER_SQRT_PI}

    def reference_forward(self, x):
        self.x = x
        return special.erf(x)

    def reference_backward(self, grad):
        factor = TWO_OVER_SQRT_PI * xp(grad).exp(-self.x * self.x)
        return grad * factor.astype(self.x.dtype, copy=False)

    def slope_graph(self, x):
        return TWO_OVER_SQRT_PI * (-(x * x)).exp()


class Erfc(Op):
    """y = erfc x = 1 - erf x (accurate in the right tail);  dL/dx = -dL/dy · 2/√π · e^{-x²}."""

    def forward(self, x):
        self.x = x
        return special.erfc(x)

    def backward(self, grad):
        factor = -TWO_OVER_SQRT_PI * xp(grad).exp(-self.x * self.x)
        return (grad * factor.astype(self.x.dtype, copy=False),)

    def backward_graph(self, grad, x):
        return (grad * (-(x * x)).exp() * -TWO_OVER_SQRT_PI,)
