"""The second derivatives f''(x) of the smooth activations as element-wise ops, each one
compiled loop (``Pointwise``) with f''' as its backward: what a second-order backward
multiplies by (``SlopeProduct.backward_graph``: ∂/∂x of g f'(x) is g f''(x)), where tensor
operations took five ops and ten passes (a physics-informed network's u_xx takes it three
times per layer and step). A further derivative (f'''') is the tensor operations of
``slope_graph``. With p = σ(x)(1 − σ(x)) and φ(x) = e^{-x²/2}/√(2π):

    tanh      f'' = −2t(1 − t²)                  f''' = (6t² − 2)(1 − t²),  t = tanh x
    sigmoid   f'' = p(1 − 2σ)                     f''' = p(1 − 6σ + 6σ²)
    SiLU      f'' = p q,  q = 2 + x(1 − 2σ)       f''' = p((1 − 2σ)(q + 1) − 2xp)
    GELU      f'' = φ(2 − x²)                     f''' = xφ(x² − 4)
    softplus  f'' = β p(βx)  (0 where βx > threshold)    f''' = β² p(βx)(1 − 2σ(βx))
"""

from __future__ import annotations

import math

import numpy as np

from ffnn.backend import xp
from ffnn.ops.activations import (
    GELU,
    MULTI_PASS_MIN_SIZE,
    PointwiseOp,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
    stable_sigmoid,
)
from ffnn.ops.elementwise import constant_like
from ffnn.ops.pointwise import Pointwise

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SIGMA = """
    e = exp_small(-abs(z))
    s = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
    """


class _Curvature(PointwiseOp):
    """f''(x) for one activation; dL/dx = dL/dy · f'''(x)."""

    kernel_min_size = MULTI_PASS_MIN_SIZE

    def reference_forward(self, x, **options):
        self.x, self.scalars_of = x, options
        return self.second(x, **options).astype(x.dtype, copy=False)

    def reference_backward(self, grad):
        return (grad * self.third(self.x, **self.scalars_of)).astype(grad.dtype, copy=False)


TANH_CURVATURE = Pointwise("tanh_curvature", forward="""
    t = tanh(x)
    y = -2.0 * t * (1.0 - t * t)
    """, saved=("t",), backward="grad_input = grad * (6.0 * t * t - 2.0) * (1.0 - t * t)")


class TanhCurvature(_Curvature):
    def formula(self):
        return TANH_CURVATURE, {}

    @staticmethod
    def second(x):
        t = xp(x).tanh(x)
        return -2 * t * (1 - t * t)

    @staticmethod
    def third(x):
        t = xp(x).tanh(x)
        return (6 * t * t - 2) * (1 - t * t)

    def slope_graph(self, x):
        t = x.tanh()
        return (6 * t * t - 2) * (1 - t * t)


SIGMOID_CURVATURE = Pointwise("sigmoid_curvature", forward="z = x" + _SIGMA + """
    y = s * (1.0 - s) * (1.0 - 2.0 * s)
    """, saved=("s",), backward="grad_input = grad * s * (1.0 - s) * (1.0 - 6.0 * s * (1.0 - s))")


class SigmoidCurvature(_Curvature):
    def formula(self):
        return SIGMOID_CURVATURE, {}

    @staticmethod
    def second(x):
        s = stable_sigmoid(x)
        return s * (1 - s) * (1 - 2 * s)

    @staticmethod
    def third(x):
        s = stable_sigmoid(x)
        return s * (1 - s) * (1 - 6 * s * (1 - s))

    def slope_graph(self, x):
        s = x.sigmoid()
        return s * (1 - s) * (1 - 6 * s * (1 - s))


SILU_CURVATURE = Pointwise("silu_curvature", forward="z = x" + _SIGMA + """
    y = s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s))
    """, saved=("x", "s"), backward="""
    p = s * (1.0 - s)
    grad_input = grad * p * ((1.0 - 2.0 * s) * (3.0 + x * (1.0 - 2.0 * s)) - 2.0 * x * p)
    """)


class SiLUCurvature(_Curvature):
    def formula(self):
        return SILU_CURVATURE, {}

    @staticmethod
    def second(x):
        s = stable_sigmoid(x)
        return s * (1 - s) * (2 + x * (1 - 2 * s))

    @staticmethod
    def third(x):
        s = stable_sigmoid(x)
        p = s * (1 - s)
        return p * ((1 - 2 * s) * (3 + x * (1 - 2 * s)) - 2 * x * p)

    def slope_graph(self, x):
        s = x.sigmoid()
        p = s * (1 - s)
        return p * ((1 - 2 * s) * (3 + x * (1 - 2 * s)) - 2 * x * p)


GELU_CURVATURE = Pointwise("gelu_curvature", forward="""
    density = inv_sqrt_2pi * exp_small(-0.5 * x * x)
    y = density * (2.0 - x * x)
    """, saved=("x", "density"), backward="grad_input = grad * x * density * (x * x - 4.0)",
    scalars=("inv_sqrt_2pi",))


class GELUCurvature(_Curvature):
    def formula(self):
        return GELU_CURVATURE, {"inv_sqrt_2pi": _INV_SQRT_2PI}

    @staticmethod
    def second(x):
        return xp(x).exp(-0.5 * x * x) * _INV_SQRT_2PI * (2 - x * x)

    @staticmethod
    def third(x):
        return x * xp(x).exp(-0.5 * x * x) * _INV_SQRT_2PI * (x * x - 4)

    def slope_graph(self, x):
        return x * ((-0.5) * x * x).exp() * _INV_SQRT_2PI * (x * x - 4)


SOFTPLUS_CURVATURE = Pointwise("softplus_curvature", forward="z = beta * x" + _SIGMA + """
    curved = not z > threshold
    y = beta * s * (1.0 - s) if curved else 0.0
    """, saved=("s", "curved"), backward="""
    grad_input = grad * beta * beta * s * (1.0 - s) * (1.0 - 2.0 * s) if curved else 0.0
    """, scalars=("beta", "threshold"), dtypes={"curved": bool})


class SoftplusCurvature(_Curvature):
    def formula(self, beta=1.0, threshold=20.0):
        return SOFTPLUS_CURVATURE, {"beta": beta, "threshold": threshold}

    @staticmethod
    def second(x, beta=1.0, threshold=20.0):
        s = stable_sigmoid(beta * x)
        return xp(x).where(beta * x > threshold, 0, beta * s * (1 - s))

    @staticmethod
    def third(x, beta=1.0, threshold=20.0):
        s = stable_sigmoid(beta * x)
        return xp(x).where(beta * x > threshold, 0, beta * beta * s * (1 - s) * (1 - 2 * s))

    def slope_graph(self, x, beta=1.0, threshold=20.0):
        curved = constant_like(x, beta * x._data <= threshold)
        s = (beta * x).sigmoid()
        return curved * (beta * beta * s * (1 - s) * (1 - 2 * s))


def second_slope(curvature: type[_Curvature], x: np.ndarray, **options) -> np.ndarray:
    """f''(x) by ``curvature``'s compiled loop (its NumPy reference for small or non-float
    arrays)."""
    op = curvature()
    op.needs_input_grad = (False,)
    return op.forward(np.ascontiguousarray(x), **options)



CURVATURES = {Tanh: TanhCurvature, Sigmoid: SigmoidCurvature, SiLU: SiLUCurvature,
              GELU: GELUCurvature, Softplus: SoftplusCurvature}
"""activation op class → its second derivative's op."""


def curvature_of(activation: type, options: dict) -> type[_Curvature] | None:
    """The second derivative's op of ``activation`` with ``options`` (GELU's tanh
    approximation has none here), or None."""
    if activation is GELU and options.get("approximate", "none") != "none":
        return None
    return CURVATURES.get(activation)
