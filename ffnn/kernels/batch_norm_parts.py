"""Batch norm over parts of the batch's rows, one part per OpenBLAS thread.

Batch norm's statistics are sums down the columns: each part sums its own rows into its
own float64 row of partial sums, and the partial sums are added in the order of the parts'
rows; the passes that need the statistics (x̂ and y; dL/dx) run on the same parts. Each
pass is one of ``ffnn._kernels``' batch norm loops on a range of rows, so the results
differ from the whole kernel's only in the order of the statistics' float64 sums
(deterministic for a number of threads). Each part sums into arrays of its own, copied
into the shared partial sums once: parts adding into neighbouring rows of one array share
cache lines, and took 2-3x longer than one thread. Float32, AMD EPYC, 2 threads, forward /
backward: [16384, 16] 242 / 187 -> 156 / 112 µs; [8192, 128] 946 / 812 -> 351 / 324;
[2048, 200] 244 / 211 -> 141 / 139.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import carray, cfunc, types

from ffnn import _kernels as kernels
from ffnn.kernels import numba_cache
from ffnn.kernels.native import address_as_pointer
from ffnn.kernels.row_parts import in_order, part_index, run_parts

numba_cache.install()  # before the decorators: stamps the cache by every kernel source

SUMS, SQUARES, NORMALIZE, GRADIENT_SUMS, INPUT_GRADIENT = 0, 1, 2, 3, 4
"""What a part computes (the last of its scalars): Σ x, Σ (x - μ)² (into its row of the
partial sums), x̂ and y, Σ g x̂ and Σ g, dL/dx."""


@numba.njit(cache=True, inline="always")
def _part(rows, a, b, c, d, e, scalars, dtype, size):  # pragma: no cover - compiled
    """One pass (``scalars``: columns, all rows, parts, the pass) on ``rows`` rows of
    ``dtype`` ([rows, columns] at a, b, c as the pass reads them; d, e the arrays every part
    shares: see ``forward`` and ``backward``)."""
    values = carray(address_as_pointer(scalars, np.float64), 4)
    cols, total, count, kind = int(values[0]), int(values[1]), int(values[2]), int(values[3])
    x = carray(address_as_pointer(a, dtype), (rows, cols))
    if kind == NORMALIZE or kind == INPUT_GRADIENT:
        k = 5 if kind == NORMALIZE else 3
        co = carray(address_as_pointer(d, dtype), (k, cols))
        if kind == NORMALIZE:
            kernels.batch_normalize(x, co[0], co[1], co[2], co[3], co[4],
                                    carray(address_as_pointer(b, dtype), (rows, cols)),
                                    carray(address_as_pointer(c, dtype), (rows, cols)))
        else:
            kernels.batch_input_gradient(x, carray(address_as_pointer(b, dtype), (rows, cols)),
                                         co[0], co[1], co[2],
                                         carray(address_as_pointer(c, dtype), (rows, cols)))
        return
    index = part_index((a - e) // (cols * size), count, total, d)
    first, second = np.empty(cols), np.empty(cols)  # the part's own: the parts' rows of
    if kind == SUMS:                                 # ``sums`` share cache lines
        kernels.column_sums(x, first)
    elif kind == SQUARES:
        kernels.column_squares(x, carray(address_as_pointer(b, np.float64), cols), second)
    else:
        kernels.gradient_sums(x, carray(address_as_pointer(b, dtype), (rows, cols)), first,
                              second)
    sums = carray(address_as_pointer(c, np.float64), (2, count, cols))
    if kind != SQUARES:
        sums[0, index] = first
    if kind != SUMS:
        sums[1, index] = second


@cfunc(types.void(*[types.int64] * 8), cache=True)
def part_f32(rows, a, b, c, d, e, unused, scalars):  # pragma: no cover - compiled
    """A C entry point for ``row_parts.run_parts``: ``_part`` on float32 arrays."""
    _part(rows, a, b, c, d, e, scalars, np.float32, 4)


@cfunc(types.void(*[types.int64] * 8), cache=True)
def part_f64(rows, a, b, c, d, e, unused, scalars):  # pragma: no cover - compiled
    """``part_f32`` for float64 arrays."""
    _part(rows, a, b, c, d, e, scalars, np.float64, 8)


@numba.njit(cache=True, inline="always")
def _add_parts(sums, out):  # pragma: no cover - compiled
    """out = Σ_parts sums [parts, columns], in the parts' order."""
    out[:] = sums[0]
    for p in range(1, sums.shape[0]):
        out += sums[p]


@numba.njit(cache=True, inline="always")
def _buffers(a, split, kind):  # pragma: no cover - compiled
    """For passes over a [n, columns] in ``split[2]`` parts: n, the partial sums
    [2, parts, columns] (float64), the parts' first rows, the scalars (first pass
    ``kind``), the bytes of a row and a's address."""
    n, cols = a.shape
    count = split[2]
    sums, starts = np.zeros((2, count, cols)), np.full(count, -1, np.int64)
    scalars = np.array([cols, n, count, kind], np.float64)
    return n, sums, starts, scalars, cols * a.itemsize, a.ctypes.data


@numba.njit(error_model="numpy", cache=True)
def forward(x, w, b, eps, y, x_hat, mean, var, rstd, split,
            entry):  # pragma: no cover - compiled
    """``_kernels.batch_norm_forward`` by parts (``entry``: ``part_*``'s address, ``split``
    a ``blas_split.Splitter.row``); False, with y and x̂ unwritten, where the parts were not
    as expected."""
    n, sums, starts, scalars, row, data = _buffers(x, split, SUMS)
    cols = x.shape[1]
    run_parts(split, entry, n, (data, 0, sums.ctypes.data, starts.ctypes.data, data, 0),
              (row, 0, 0, 0, 0, 0), scalars)
    if not in_order(starts):
        return False
    _add_parts(sums[0], mean)
    mean /= n
    scalars[3] = SQUARES
    run_parts(split, entry, n, (data, mean.ctypes.data, sums.ctypes.data,
                                starts.ctypes.data, data, 0), (row, 0, 0, 0, 0, 0), scalars)
    _add_parts(sums[1], var)
    coefficients = np.empty((5, cols), x.dtype)
    kernels.batch_norm_coefficients(var, mean, n, eps, w, b, rstd, coefficients)
    scalars[3] = NORMALIZE
    run_parts(split, entry, n, (data, y.ctypes.data, x_hat.ctypes.data,
                                coefficients.ctypes.data, 0, 0), (row, row, row, 0, 0, 0),
              scalars)
    return True


@numba.njit(error_model="numpy", cache=True)
def backward(g, x_hat, rstd, w, need_x, grad_x, sum_gx, sum_g, split,
             entry):  # pragma: no cover - compiled
    """``_kernels.batch_norm_backward`` by parts (as ``forward``); False, writing nothing,
    where the parts were not as expected."""
    n, sums, starts, scalars, row, data = _buffers(g, split, GRADIENT_SUMS)
    cols = g.shape[1]
    run_parts(split, entry, n, (data, x_hat.ctypes.data, sums.ctypes.data,
                                starts.ctypes.data, data, 0), (row, row, 0, 0, 0, 0), scalars)
    if not in_order(starts):
        return False
    _add_parts(sums[0], sum_gx)
    _add_parts(sums[1], sum_g)
    if need_x:
        coefficients = np.empty((3, cols), g.dtype)
        kernels.input_gradient_coefficients(sum_gx, sum_g, rstd, w, n, coefficients)
        scalars[3] = INPUT_GRADIENT
        run_parts(split, entry, n, (data, x_hat.ctypes.data, grad_x.ctypes.data,
                                    coefficients.ctypes.data, 0, 0), (row, row, row, 0, 0, 0),
                  scalars)
    return True
