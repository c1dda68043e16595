"""The numba kernels behind ``ffnn.accel`` (imported only when a kernel is first needed, so
``import ffnn`` does not pay for numba). Formulas and reasons: ``ffnn/accel.py``."""

import math

import numba
import numpy as np

_jit = numba.njit(error_model="numpy", cache=True)  # serial: see ffnn/accel.py


@_jit
def adam(p, g, m, v, vmax, coefficients, amsgrad):  # pragma: no cover - compiled
    step_size, bc2_sqrt, eps, beta1, beta2, weight_decay, decay_factor, sign = coefficients
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
def add_scale(a, b, out, scale):  # pragma: no cover - compiled
    for i in range(out.size):
        out[i] = (a[i] + b[i]) * scale

@_jit
def cross_entropy_forward(x, target, logp):  # pragma: no cover - compiled
    """logp = log softmax of each row of x [n, c]; returns Σᵢ -logp[i, target[i]]."""
    n, c = x.shape
    total = 0.0
    for i in range(n):
        top = x[i, 0]
        for j in range(1, c):
            top = max(top, x[i, j])
        s = 0.0
        for j in range(c):
            s += math.exp(x[i, j] - top)
        log_s = math.log(s)
        for j in range(c):
            logp[i, j] = (x[i, j] - top) - log_s
        k = target[i]
        if k < 0 or k >= c:
            raise ValueError("cross_entropy: a class index is out of range")
        total -= logp[i, k]
    return total

@_jit
def cross_entropy_backward(logp, target, scale, out):  # pragma: no cover - compiled
    """out = scale · (softmax - one_hot(target)), from the saved log-probabilities."""
    n, c = logp.shape
    for i in range(n):
        for j in range(c):
            out[i, j] = math.exp(logp[i, j]) * scale
        out[i, target[i]] -= scale

@_jit
def relu_forward(x, y, mask):  # pragma: no cover - compiled
    for i in range(x.size):
        keep = x[i] > 0
        mask[i] = keep
        y[i] = x[i] * keep  # as NumPy's x * (x > 0): NaN stays NaN, -x·0 = -0

@_jit
def relu_backward(grad, mask, out):  # pragma: no cover - compiled
    for i in range(grad.size):
        out[i] = grad[i] * mask[i]

@_jit
def gelu_forward(x, y, cdf):  # pragma: no cover - compiled
    half = x.dtype.type(0.5)
    root_half = x.dtype.type(math.sqrt(0.5))
    for i in range(x.size):
        c = half * math.erfc(-x[i] * root_half)
        cdf[i] = c
        y[i] = x[i] * c

@_jit
def exp_vectorisable(u):  # pragma: no cover - compiled
    """e^u for u <= 1 in float64, accurate to ~1e-13 relative (u > -200; below, e^-200):
    the Taylor series of e^(u/1024) to degree 9, squared ten times. Unlike a call to libm's
    exp, these 19 multiply-adds vectorise, so a loop using it runs on SIMD lanes."""
    y = max(u, -200.0) * (1.0 / 1024.0)
    p = 1.0 + y * (1.0 / 9.0)
    p = 1.0 + y * p * (1.0 / 8.0)
    p = 1.0 + y * p * (1.0 / 7.0)
    p = 1.0 + y * p * (1.0 / 6.0)
    p = 1.0 + y * p * (1.0 / 5.0)
    p = 1.0 + y * p * (1.0 / 4.0)
    p = 1.0 + y * p * (1.0 / 3.0)
    p = 1.0 + y * p * 0.5
    p = 1.0 + y * p
    for _ in range(10):
        p = p * p
    return p

@_jit
def erfc_float32_accurate(z):  # pragma: no cover - compiled
    """erfc(z) to 1.2e-7 relative (float32's own precision) everywhere: Numerical
    Recipes' Chebyshev fit t·exp(-z² + P(t)), t = 1/(1 + |z|/2), in float64, with the
    vectorisable exp above."""
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
    r = t * exp_vectorisable(-a * a - 1.26551223 + t * p)
    return r if z >= 0 else 2.0 - r

@_jit
def gelu_forward_float32(x, y, cdf):  # pragma: no cover - compiled
    for i in range(x.size):
        xi = np.float64(x[i])
        c = 0.5 * erfc_float32_accurate(-xi * 0.7071067811865476)
        cdf[i] = c
        y[i] = xi * c

@_jit
def gelu_backward_float32(grad, x, cdf, out):  # pragma: no cover - compiled
    for i in range(x.size):
        xi = np.float64(x[i])
        pdf = 0.3989422804014327 * exp_vectorisable(-0.5 * xi * xi)
        out[i] = grad[i] * (cdf[i] + xi * pdf)

@_jit
def gelu_backward(grad, x, cdf, out):  # pragma: no cover - compiled
    half = x.dtype.type(0.5)
    inv_sqrt_2pi = x.dtype.type(1 / math.sqrt(2 * math.pi))
    for i in range(x.size):
        xi = x[i]
        out[i] = grad[i] * (cdf[i] + xi * inv_sqrt_2pi * math.exp(-half * xi * xi))
