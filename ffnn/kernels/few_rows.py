"""Matrix products of a few rows: a Linear layer's three products on a batch of 2 to
``FEW_ROWS`` rows, compiled loops that read the weight once.

For so few rows OpenBLAS's GEMM still packs the whole weight into its blocks, and takes
3-5x as long as one pass over it (AMD EPYC, float32, W [256, 784], 2 rows: x Wᵀ 80 µs
against 18, g W 64 against 19; float64 W [512, 512], gᵀ x 465 µs against 80; from 8 rows
GEMM's blocking wins). The three, for a [m, k] C-contiguous (m or k the few rows):

- ``rows_times_transposed(a, bt, c)``: c = a btᵀ (the forward x Wᵀ, bt = W [n, k]): each
  element a dot product along a row of a and a row of bt, four rows of bt at a time; the
  dot products are vectorised, their sums reassociated into SIMD lanes, as BLAS's are;
- ``rows_times(a, b, c)``: c = a b (dL/dx = g W, b [k, n]): each row of c built from four
  rows of b at a time, every element summed over the inner index in order;
- ``transposed_times(at, b, c)``: c = atᵀ b for at [k, m] of few rows k (dL/dW = gᵀ x, a
  sum over the batch): each row of c written in one pass, summed over the rows in order.

All compute in the arrays' dtype and write every element of c. ``ffnn.ops.matrix.product``
and the compiled chains' ``_gemm`` take the same loops for the same shapes (``few``), so an
eager step and a compiled one agree bit for bit.
"""

from __future__ import annotations

import numba

from ffnn.accel import FEW_ROWS
from ffnn.kernels import numba_cache

numba_cache.install()  # before the decorators: stamps the cache by every kernel source
_DOT = numba.njit(error_model="numpy", cache=True, fastmath={"contract", "reassoc"})
_ORDERED = numba.njit(error_model="numpy", cache=True, fastmath={"contract"})


@numba.njit(cache=True, inline="always")
def few(rows: int) -> bool:
    """Whether a product of ``rows`` rows (or an inner size of ``rows``, for dL/dW) is
    these loops' (from 2: one row is a matrix-vector product, BLAS's gemv)."""
    return 2 <= rows <= FEW_ROWS


@_DOT
def rows_times_transposed(a, bt, c):  # pragma: no cover - compiled
    """c [m, n] = a [m, k] · bt [n, k]ᵀ."""
    m, k = a.shape
    n = bt.shape[0]
    zero = c.dtype.type(0)
    o = 0
    while o + 4 <= n:
        b0, b1, b2, b3 = bt[o], bt[o + 1], bt[o + 2], bt[o + 3]
        for i in range(m):
            arow = a[i]
            s0, s1, s2, s3 = zero, zero, zero, zero
            for j in range(k):
                v = arow[j]
                s0 += v * b0[j]
                s1 += v * b1[j]
                s2 += v * b2[j]
                s3 += v * b3[j]
            c[i, o], c[i, o + 1], c[i, o + 2], c[i, o + 3] = s0, s1, s2, s3
        o += 4
    for last in range(o, n):
        brow = bt[last]
        for i in range(m):
            arow = a[i]
            s = zero
            for j in range(k):
                s += arow[j] * brow[j]
            c[i, last] = s


@_ORDERED
def rows_times(a, b, c):  # pragma: no cover - compiled
    """c [m, n] = a [m, k] · b [k, n], cᵢ = ((aᵢ₀ b₀ + aᵢ₁ b₁) + aᵢ₂ b₂) + …"""
    m, k = a.shape
    n = b.shape[1]
    for i in range(m):
        crow, first, av = c[i], b[0], a[i, 0]
        for j in range(n):
            crow[j] = av * first[j]
    p = 1
    while p + 4 <= k:
        b0, b1, b2, b3 = b[p], b[p + 1], b[p + 2], b[p + 3]
        for i in range(m):
            crow = c[i]
            a0, a1, a2, a3 = a[i, p], a[i, p + 1], a[i, p + 2], a[i, p + 3]
            for j in range(n):
                crow[j] = crow[j] + a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j]
        p += 4
    for last in range(p, k):
        brow = b[last]
        for i in range(m):
            crow, av = c[i], a[i, last]
            for j in range(n):
                crow[j] += av * brow[j]


@_ORDERED
def transposed_times(at, b, c):  # pragma: no cover - compiled
    """c [m, n] = at [k, m]ᵀ · b [k, n], cᵣ = ((at₀ᵣ b₀ + at₁ᵣ b₁) + …) for few rows k."""
    k, m = at.shape
    n = b.shape[1]
    first = b[0]
    for r in range(m):
        crow, av = c[r], at[0, r]
        for j in range(n):
            crow[j] = av * first[j]
        for p in range(1, k):
            brow, av = b[p], at[p, r]
            for j in range(n):
                crow[j] += av * brow[j]
