"""The numba kernels behind ``ffnn.ops.fast_inference`` (imported only when first needed, so
``import ffnn`` does not pay for numba). Serial loops, as ``ffnn/_kernels.py``: between two
matrix products the BLAS threads are still spinning, and a threaded kernel would fight them."""

import numba
import numpy as np

_jit = numba.njit(error_model="numpy", cache=True)

# erf(z) ≈ z · P(z²) / Q(z²) for |z| <= ERF_EDGE: a rational least-squares fit, refined to
# equal ripple (Sanathanan–Koerner iterations), of erf(z)/z on [0, 4]; its error is below
# 2e-9 there, and 1 - erf(4) = 1.5e-8, so beyond the edge erf = ±1 is as close.
ERF_EDGE = 4.0
_P = (1.1283791820627769, 0.18471597872101173, 0.05433267381654904, 0.003839674512713537,
      0.0003826678159992666, 4.7797507394808925e-06, -1.3663123965557133e-08)
_Q = (1.0, 0.49703381859411067, 0.11382804324379417, 0.015453718009250413,
      0.0013095761439361011, 6.400182693764266e-05)
p0, p1, p2, p3, p4, p5, p6 = _P
q1, q2, q3, q4, q5 = _Q[1:]


@_jit
def gelu_rational_(x):  # pragma: no cover - compiled
    """x ← x Φ(x) in place, Φ(x) = ½(1 + erf(x/√2)) from the rational erf above, evaluated in
    float64 (no exp, no branch: the loop vectorises)."""
    for i in range(x.size):
        xi = np.float64(x[i])
        z = min(max(xi * 0.7071067811865476, -ERF_EDGE), ERF_EDGE)
        s = z * z
        num = p0 + s * (p1 + s * (p2 + s * (p3 + s * (p4 + s * (p5 + s * p6)))))
        den = 1.0 + s * (q1 + s * (q2 + s * (q3 + s * (q4 + s * q5))))
        cdf = 0.5 + 0.5 * (z * num / den)
        cdf = 0.0 if z <= -ERF_EDGE else cdf
        cdf = 1.0 if z >= ERF_EDGE else cdf
        x[i] = xi * cdf


@numba.njit(error_model="numpy", cache=True, fastmath={"reassoc", "contract"})
def add_layer_norm_(x, residual, weight, bias, eps):  # pragma: no cover - compiled
    """Each row of x [n, e] ← LayerNorm(x + residual) · weight + bias, in place; mean and
    variance accumulated in float64 (the sums may be reassociated to vectorise)."""
    n, e = x.shape
    for i in range(n):
        total = 0.0
        for j in range(e):
            v = x[i, j] + residual[i, j]
            x[i, j] = v
            total += v
        mean = total / e
        squares = 0.0
        for j in range(e):
            d = x[i, j] - mean
            squares += d * d
        rstd = 1.0 / np.sqrt(squares / e + eps)
        for j in range(e):
            x[i, j] = (x[i, j] - mean) * rstd * weight[j] + bias[j]
