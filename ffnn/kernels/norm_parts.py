"""Batch norm, and layer norm's backward, over parts of the batch's rows, one part per
OpenBLAS thread.

Batch norm's statistics, and the parameters' gradients of both norms, are sums down the
columns: each part sums its own rows into its own float64 row of partial sums, and the
partial sums are added in the order of the parts' rows; the passes that need the
statistics (x̂ and y; dL/dx) run on the same parts. Each pass is one of ``ffnn._kernels``'
norm loops on a range of rows, so the results differ from the whole kernel's only in the
order of those float64 sums (deterministic for a number of threads). Each part sums into
arrays of its own, copied into the shared partial sums once: parts adding into
neighbouring rows of one array share cache lines, and took 2-3x longer than one thread.
Float32, AMD EPYC, 2 threads, batch norm forward / backward: [16384, 16] 242 / 187 -> 156 /
112 µs; [8192, 128] 946 / 812 -> 351 / 324; [2048, 200] 244 / 211 -> 141 / 139.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import carray

from ffnn import _kernels as kernels
from ffnn.kernels import numba_cache
from ffnn.kernels.first_use import on_first_use
from ffnn.kernels.native import address_as_pointer
from ffnn.kernels.row_parts import in_order, part_index, run_parts

numba_cache.install()  # before the decorators: stamps the cache by every kernel source

SUMS, SQUARES, NORMALIZE, GRADIENT_SUMS, INPUT_GRADIENT, LAYER_NORM_BACKWARD = range(6)
"""What a part computes (its fourth scalar): Σ x, Σ (x - μ)² (into its row of the partial
sums), x̂ and y, Σ g x̂ and Σ g, batch norm's dL/dx; layer norm's backward."""


@numba.njit(cache=True, inline="always")
def _part(rows, a, b, c, d, e, f, scalars, dtype, size):  # pragma: no cover - compiled
    """One pass (``scalars``: columns, all rows, parts, the pass, whether dL/dx is wanted) on
    ``rows`` rows of ``dtype`` ([rows, columns] at a, b, c as the pass reads them; the rest
    as the functions below hand them)."""
    values = carray(address_as_pointer(scalars, np.float64), 5)
    cols, total, count, kind = int(values[0]), int(values[1]), int(values[2]), int(values[3])
    x = carray(address_as_pointer(a, dtype), (rows, cols))
    if kind == LAYER_NORM_BACKWARD:
        _layer_norm_part(rows, x, b, c, d, e, f, values[4] != 0, count, total, dtype, size)
        return
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


@numba.njit(cache=True, inline="always")
def _layer_norm_part(rows, g, x_hat, grad_x, rstd, sums, shared, need_x, count, total, dtype,
                     size):  # pragma: no cover - compiled
    """``_kernels.layer_norm_backward`` on ``rows`` rows (g given, x̂, dL/dx and 1/σ at the
    part's first row), its column sums into the part's row of ``sums``; ``shared``: the
    parts' first rows, then g's first row and γ (addresses)."""
    cols = g.shape[1]
    first_rows = carray(address_as_pointer(shared, np.int64), count + 2)
    index = part_index((g.ctypes.data - first_rows[count]) // (cols * size), count, total,
                       shared)
    sum_gx, sum_g = np.empty(cols), np.empty(cols)  # the part's own (see the module)
    kernels.layer_norm_backward(
        g, carray(address_as_pointer(x_hat, dtype), (rows, cols)),
        carray(address_as_pointer(rstd, np.float64), rows),
        carray(address_as_pointer(first_rows[count + 1], dtype), cols), need_x,
        carray(address_as_pointer(grad_x, dtype), (rows, cols)), sum_gx, sum_g)
    partial = carray(address_as_pointer(sums, np.float64), (2, count, cols))
    partial[0, index], partial[1, index] = sum_gx, sum_g


def _part_f32(rows, a, b, c, d, e, f, scalars):  # pragma: no cover - compiled
    """A C entry point for ``row_parts.run_parts``: ``_part`` on float32 arrays."""
    _part(rows, a, b, c, d, e, f, scalars, np.float32, 4)


def _part_f64(rows, a, b, c, d, e, f, scalars):  # pragma: no cover - compiled
    """``part_f32`` for float64 arrays."""
    _part(rows, a, b, c, d, e, f, scalars, np.float64, 8)


@numba.njit(cache=True, inline="always")
def _add_parts(sums, out):  # pragma: no cover - compiled
    """out = Σ_parts sums [parts, columns], in the parts' order (loops: numba's array
    assignment and ``+=`` copy first)."""
    for j in range(out.size):
        total = sums[0, j]
        for p in range(1, sums.shape[0]):
            total += sums[p, j]
        out[j] = total


@numba.njit(cache=True, inline="always")
def _buffers(a, split, kind):  # pragma: no cover - compiled
    """For passes over a [n, columns] in ``split[2]`` parts: n, the partial sums
    [2, parts, columns] (float64), the parts' first rows, the scalars (first pass
    ``kind``), the bytes of a row and a's address."""
    n, cols = a.shape
    count = split[2]
    sums, starts = np.zeros((2, count, cols)), np.full(count, -1, np.int64)
    scalars = np.array([cols, n, count, kind, 0.0], np.float64)
    return n, sums, starts, scalars, cols * a.itemsize, a.ctypes.data


@numba.njit(cache=True, inline="always")
def _row_pass(split, entry, scalars, kind, a, b, out, coefficients):  # pragma: no cover
    """The pass ``kind`` (``NORMALIZE``, ``INPUT_GRADIENT``) by parts: rows of a and b
    into rows of ``out``, with the columns' ``coefficients``."""
    scalars[3] = kind
    row = a.shape[1] * a.itemsize
    run_parts(split, entry, a.shape[0], (a.ctypes.data, b.ctypes.data, out.ctypes.data,
                                         coefficients.ctypes.data, 0, 0),
              (row, row, row, 0, 0, 0), scalars)


@numba.njit(error_model="numpy", cache=True)
def batch_norm_forward(x, w, b, eps, y, x_hat, mean, var, rstd, split,
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
    _row_pass(split, entry, scalars, NORMALIZE, x, y, x_hat, coefficients)
    return True


@numba.njit(error_model="numpy", cache=True)
def batch_norm_backward(g, x_hat, rstd, w, need_x, grad_x, sum_gx, sum_g, split,
                        entry):  # pragma: no cover - compiled
    """``_kernels.batch_norm_backward`` by parts (as ``batch_norm_forward``); False,
    writing nothing, where the parts were not as expected."""
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
        _row_pass(split, entry, scalars, INPUT_GRADIENT, g, x_hat, grad_x, coefficients)
    return True


@numba.njit(error_model="numpy", cache=True)
def layer_norm_backward(g, x_hat, rstd, w, need_x, grad_x, sum_gx, sum_g, split,
                        entry):  # pragma: no cover - compiled
    """``_kernels.layer_norm_backward`` by parts (as ``batch_norm_forward``); False, writing nothing
    of the sums, where the parts were not as expected."""
    n, sums, _, scalars, row, data = _buffers(g, split, LAYER_NORM_BACKWARD)
    count = split[2]
    shared = np.full(count + 2, -1, np.int64)
    shared[count], shared[count + 1] = data, w.ctypes.data
    scalars[4] = 1.0 if need_x else 0.0
    run_parts(split, entry, n, (data, x_hat.ctypes.data, grad_x.ctypes.data,
                                rstd.ctypes.data, sums.ctypes.data, shared.ctypes.data),
              (row, row, row if need_x else 0, 8, 0, 0), scalars)  # unused grad_x: stays
    if not in_order(shared[:count]):
        return False
    _add_parts(sums[0], sum_gx)
    _add_parts(sums[1], sum_g)
    return True


__getattr__ = on_first_use(globals(), {"part_f32": _part_f32, "part_f64": _part_f64})
"""The C entry points, compiled on first use (``ffnn.kernels.first_use``)."""
