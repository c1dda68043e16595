"""The numba kernels behind ``ffnn.accel`` (imported only when a kernel is first needed, so
``import ffnn`` does not pay for numba). Formulas and reasons: ``ffnn/accel.py``."""

import math

import numba
import numpy as np

_jit = numba.njit(error_model="numpy", cache=True)  # serial: see ffnn/accel.py


@_jit
def adam(p, g, m, v, vmax, step_size, bc2_sqrt, eps, beta1, beta2, weight_decay,
          decay_factor, sign, amsgrad):  # pragma: no cover - compiled
    one = p.dtype.type(1)
    for i in range(p.size):
        pi = p[i] * decay_factor
        gi = sign * g[i] + weight_decay * pi
        mi = m[i] + (one - beta1) * (gi - m[i])
        vi = v[i] * beta2 + (one - beta2) * (gi * gi)
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = max(vmax[i], vi)
            vmax[i] = vi
        p[i] = pi - step_size * (mi / (math.sqrt(vi) / bc2_sqrt + eps))

@_jit
def gelu_forward(x, y, cdf):  # pragma: no cover - compiled
    half = x.dtype.type(0.5)
    root_half = x.dtype.type(math.sqrt(0.5))
    for i in range(x.size):
        c = half * math.erfc(-x[i] * root_half)
        cdf[i] = c
        y[i] = x[i] * c

@_jit
def erfc_float32_accurate(z):  # pragma: no cover - compiled
    """erfc(z) to 1.2e-7 relative (float32's own precision) everywhere: Numerical
    Recipes' Chebyshev fit t·exp(-z² + P(t)), t = 1/(1 + |z|/2), in float64. Unlike
    libm's erfc the polynomial vectorises."""
    a = abs(z)
    t = 1.0 / (1.0 + 0.5 * a)
    p = -0.82215223 + t * 0.17087277
    p = 1.48851587 + t * p
    p = -1.13520398 + t * p
    p = 0.27886807 + t * p
    p = -0.18628806 + t * p
    p = 0.09678418 + t * p
    p = 0.37409196 + t * p
    p = 1.00002368 + t * p
    r = t * math.exp(-a * a - 1.26551223 + t * p)
    return r if z >= 0 else 2.0 - r

@_jit
def gelu_forward_float32(x, y, cdf):  # pragma: no cover - compiled
    for i in range(x.size):
        xi = np.float64(x[i])
        c = 0.5 * erfc_float32_accurate(-xi * 0.7071067811865476)
        cdf[i] = c
        y[i] = xi * c

@_jit
def gelu_backward(grad, x, cdf, out):  # pragma: no cover - compiled
    half = x.dtype.type(0.5)
    inv_sqrt_2pi = x.dtype.type(1 / math.sqrt(2 * math.pi))
    for i in range(x.size):
        xi = x[i]
        out[i] = grad[i] * (cdf[i] + xi * inv_sqrt_2pi * math.exp(-half * xi * xi))
