"""Matrix products of a few rows: a Linear layer's three products on a batch of 2 to
``FEW_ROWS`` rows, and its forward on up to ``NARROW_ROWS`` rows where the weight is small
(``narrow``), compiled loops that read the weight once.

For so few rows OpenBLAS's GEMM still packs the whole weight into its blocks, and takes
3-5x as long as one pass over it (AMD EPYC, float32, W [256, 784], 2 rows: x Wᵀ 80 µs
against 12, g W 64 against 19; float64 W [512, 512], gᵀ x 465 µs against 80). From 5 rows
GEMM's blocking wins for g W and gᵀ x; x Wᵀ by two rows and four outputs at a time still
wins up to 12 rows on weights of up to 2¹⁷ elements (W [100, 784], 10 rows: 21 µs against
45; float64 51 against 72), not on larger ones (W [512, 512], 16 rows: 125 against 99) nor
from 16 rows (W [256, 512]: 60 against 52). The three, for a [m, k] C-contiguous (m or k
the few rows):

- ``rows_times_transposed(a, bt, c)``: c = a btᵀ (the forward x Wᵀ, bt = W [n, k]): each
  element a dot product along a row of a and a row of bt, two rows of a by four rows of bt
  at a time; the dot products are vectorised, their sums reassociated into SIMD lanes, as
  BLAS's are;
- ``rows_times(a, b, c)``: c = a b (dL/dx = g W, b [k, n]): each row of c built from four
  rows of b at a time, every element summed over the inner index in order;
- ``transposed_times(at, b, c)``: c = atᵀ b for at [k, m] of few rows k (dL/dW = gᵀ x, a
  sum over the batch): each row of c written in one pass, summed over the rows in order.

All compute in the arrays' dtype and write every element of c. ``ffnn.ops.matrix.product``
and the compiled chains' ``_gemm`` take the same loops for the same shapes (``few``,
``narrow``), so an eager step and a compiled one agree bit for bit.
"""

from __future__ import annotations

import numba

from ffnn.accel import FEW_ROWS, NARROW_ROWS, NARROW_WEIGHT
from ffnn.kernels import numba_cache
from ffnn.kernels.vector_width import wide_vectors

numba_cache.install()  # before the decorators: stamps the cache by every kernel source
_DOT = numba.njit(error_model="numpy", cache=True, fastmath={"contract", "reassoc"})
_ORDERED = numba.njit(error_model="numpy", cache=True, fastmath={"contract"})


@numba.njit(cache=True, inline="always")
def few(rows: int) -> bool:
    """Whether a product of ``rows`` rows (or an inner size of ``rows``, for dL/dW) is
    these loops' (from 2: one row is a matrix-vector product, BLAS's gemv)."""
    return 2 <= rows <= FEW_ROWS


@numba.njit(cache=True, inline="always")
def narrow(rows: int, weight_size: int) -> bool:
    """Whether a forward x Wᵀ of ``rows`` rows with a weight of ``weight_size`` elements is
    ``rows_times_transposed``'s: as ``few``, or up to ``NARROW_ROWS`` rows with a weight of
    at most ``NARROW_WEIGHT`` elements (where it was faster than OpenBLAS's GEMM)."""
    return few(rows) or 2 <= rows <= NARROW_ROWS and weight_size <= NARROW_WEIGHT


@_DOT
def rows_times_transposed(a, bt, c):  # pragma: no cover - compiled
    """c [m, n] = a [m, k] · bt [n, k]ᵀ: two rows of a by four rows of bt at a time (eight
    dot products in one pass along k), then the rows and columns left over."""
    wide_vectors()
    m, k = a.shape
    n = bt.shape[0]
    zero = c.dtype.type(0)
    i = 0
    while i + 2 <= m:
        a0, a1 = a[i], a[i + 1]
        o = 0
        while o + 4 <= n:
            b0, b1, b2, b3 = bt[o], bt[o + 1], bt[o + 2], bt[o + 3]
            s00, s01, s02, s03 = zero, zero, zero, zero
            s10, s11, s12, s13 = zero, zero, zero, zero
            for j in range(k):
                u, v = a0[j], a1[j]
                w0, w1, w2, w3 = b0[j], b1[j], b2[j], b3[j]
                s00, s01, s02, s03 = s00 + u * w0, s01 + u * w1, s02 + u * w2, s03 + u * w3
                s10, s11, s12, s13 = s10 + v * w0, s11 + v * w1, s12 + v * w2, s13 + v * w3
            c[i, o], c[i, o + 1], c[i, o + 2], c[i, o + 3] = s00, s01, s02, s03
            c[i + 1, o], c[i + 1, o + 1], c[i + 1, o + 2], c[i + 1, o + 3] = s10, s11, s12, s13
            o += 4
        for last in range(o, n):
            brow = bt[last]
            s0, s1 = zero, zero
            for j in range(k):
                s0, s1 = s0 + a0[j] * brow[j], s1 + a1[j] * brow[j]
            c[i, last], c[i + 1, last] = s0, s1
        i += 2
    for row in range(i, m):
        _row_times_transposed(a[row], bt, c[row])


@_DOT
def _row_times_transposed(arow, bt, crow):  # pragma: no cover - compiled
    """crow [n] = bt [n, k] · arow [k]: the odd row of ``rows_times_transposed``."""
    wide_vectors()
    zero = crow.dtype.type(0)
    for o in range(bt.shape[0]):
        brow = bt[o]
        s = zero
        for j in range(arow.shape[0]):
            s += arow[j] * brow[j]
        crow[o] = s


@_ORDERED
def rows_times(a, b, c):  # pragma: no cover - compiled
    """c [m, n] = a [m, k] · b [k, n], cᵢ = ((aᵢ₀ b₀ + aᵢ₁ b₁) + aᵢ₂ b₂) + … (zeros for
    k = 0: a sum of no terms, such as an empty batch's weight gradient)."""
    wide_vectors()
    m, k = a.shape
    n = b.shape[1]
    if k == 0:
        c[:] = 0
        return
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
    wide_vectors()
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
