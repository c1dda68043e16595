"""The numba kernels behind ``ffnn.ops.fast_inference`` (imported only when first needed, so
``import ffnn`` does not pay for numba). Serial loops, as ``ffnn/_kernels.py``: between two
matrix products the BLAS threads are still spinning, and a threaded kernel would fight them."""

import numba
import numpy as np

from ffnn.kernels import numba_cache

numba_cache.install()  # before the decorators: stamps the cache by every kernel source


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
