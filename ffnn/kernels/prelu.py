"""PReLU's forward and backward, one pass each, on an input viewed as [n, c, l]: c channels
(axis 1 of the input, or one for a single shared slope), l positions after them (1 for the
[batch, features] input of a feed-forward network).

    y = x if x > 0 else aⱼ·x
    dL/dx = g if x > 0 else aⱼ·g,    dL/daⱼ = Σ_{i,k} g·x over x ≤ 0 (and NaN)   (summed in float64)

Composed of NumPy passes (a comparison, a product, a select, and for aⱼ another product and
a sum) PReLU on [64, 128] float32 took ~140 µs forward and backward, five times LeakyReLU's.
"""

from __future__ import annotations

import numba
import numpy as np

from ffnn.kernels import numba_cache

numba_cache.install()  # before the decorators: stamps the cache by every kernel source


@numba.njit(cache=True, error_model="numpy")
def forward(x, slope, y):  # pragma: no cover - compiled
    """y = x if x > 0 else slope[j]·x for x, y [n, c, l] and slope [c]."""
    n, c, positions = x.shape
    if positions == 1:  # [batch, channels]: across the channels, on SIMD lanes
        for i in range(n):
            for j in range(c):
                v = x[i, j, 0]
                y[i, j, 0] = v if v > 0 else v * slope[j]
        return
    for i in range(n):
        for j in range(c):
            a = slope[j]
            for k in range(positions):
                v = x[i, j, k]
                y[i, j, k] = v if v > 0 else v * a


@numba.njit(cache=True, error_model="numpy")
def backward(x, slope, grad, grad_input, sums):  # pragma: no cover - compiled
    """grad_input = g if x > 0 else slope[j]·g (when it has n rows, else not written) and
    sums[j] += Σ g·x where not x > 0 (float64 [c]) for x, grad, grad_input [n, c, l]."""
    n, c, positions = x.shape
    write = grad_input.shape[0] == n
    for i in range(n):
        if positions == 1:  # across the channels, on SIMD lanes (sums too)
            for j in range(c):
                v, g = x[i, j, 0], grad[i, j, 0]
                sums[j] += 0.0 if v > 0 else np.float64(g * v)
                if write:
                    grad_input[i, j, 0] = g if v > 0 else g * slope[j]
            continue
        for j in range(c):
            a, total = slope[j], 0.0
            for k in range(positions):
                v, g = x[i, j, k], grad[i, j, k]
                total += 0.0 if v > 0 else np.float64(g * v)
                if write:
                    grad_input[i, j, k] = g if v > 0 else g * a
            sums[j] += total
