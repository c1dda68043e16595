"""``product_over_rows(g, x)``: gᵀ x summed over many rows, one part of the rows per thread.

A weight gradient dL/dW = gᵀ x (g [n, out], x [n, in]) is a product whose inner size is the
batch: for many rows and few outputs OpenBLAS splits its outputs between threads, each
packing all n rows of the other operand, and gains little or loses ([8192, 50]ᵀ[8192, 50],
float32, AMD EPYC: 566 µs on two threads, 635 on one); a bias gradient 1ᵀ g (g = ones) is
a gemv that OpenBLAS does not split at all into a narrow row. Here the rows are split
instead: each of OpenBLAS's threads multiplies its own range of rows on one thread into
its own [out, in] buffer (OpenBLAS's split routine, ``ffnn.kernels.blas_split``, runs the
parts), and the buffers are added in the order of their rows. A part is one gemm call:
Intel MKL's where it is used (``ffnn.kernels.mkl_products``; sequential, so it computes on
the thread calling it), else OpenBLAS's, or its gemv for one output row or column (where
its gemm takes 2-4x as long). The sum is a different rounding of the same products (within
float rounding of gᵀ x, deterministic for a given number of threads).

While the parts run, OpenBLAS's thread count is one (so that a part's gemm, called on a
worker thread, computes on that thread alone); it is restored after.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import carray

from ffnn.kernels import blas_split, native, numba_cache
from ffnn.kernels.blas_split import call_split
from ffnn.kernels.first_use import on_first_use
from ffnn.kernels.native import (
    NO_TRANS,
    TRANS,
    address_as_pointer,
    call_gemm,
    call_gemv,
    get_threads,
    set_threads,
)

numba_cache.install()  # before the decorators: stamps the cache by every kernel source

@numba.njit(cache=True, inline="always")
def part_index(first, count, total, starts):  # pragma: no cover - compiled
    """The index of the part whose first row is ``first`` of ``total`` rows in ``count``
    parts: first·count/total rounded down, exact while OpenBLAS's split gives near-equal
    ranges (each ⌈rows left / parts left⌉) of more rows than parts squared. Recorded in
    ``starts`` (the address of an int64 [count]) for ``in_order`` to check."""
    index = first * count // total
    carray(address_as_pointer(starts, np.int64), count)[index] = first
    return index


@numba.njit(cache=True, inline="always")
def in_order(starts):  # pragma: no cover - compiled
    """Whether every part recorded its first row (``part_index``), in increasing order."""
    for p in range(starts.size):
        if starts[p] < 0 or (p > 0 and starts[p] <= starts[p - 1]):
            return False
    return True


@numba.njit(cache=True, inline="always")
def run_parts(split, entry, n, addresses, strides, scalars):  # pragma: no cover - compiled
    """The C entry point ``entry`` on ``split[2]`` ranges of [0, n) through ``split`` (a
    ``blas_split.Splitter.row``): six array addresses advanced by ``strides`` bytes a row
    (0: the same address in every part), and the float64 ``scalars``."""
    context = np.zeros(blas_split.CONTEXT, np.int64)
    context[blas_split.ENTRY] = entry
    context[blas_split.SCALARS] = scalars.ctypes.data
    a, s, at, sizes = addresses, strides, blas_split.ARRAYS, blas_split.ITEMSIZES
    context[at], context[at + 1], context[at + 2] = a[0], a[1], a[2]  # tuples of mixed
    context[at + 3], context[at + 4], context[at + 5] = a[3], a[4], a[5]  # types: unrolled
    context[sizes], context[sizes + 1], context[sizes + 2] = s[0], s[1], s[2]
    context[sizes + 3], context[sizes + 4], context[sizes + 5] = s[3], s[4], s[5]
    call_split(split[0], n, context.ctypes.data, split[1], split[2])


@numba.njit(cache=True, inline="always")
def _part(rows, g, x, out, parts, starts, base, scalars, dtype,
          size):  # pragma: no cover - compiled
    """gᵀ x over ``rows`` rows from the part's first (g and x at that row; out, parts,
    starts and base, g's first row, as they are in every part) into the part's own buffer:
    the product itself for the part of the first row, else ``parts`` at the part's index
    (``part_index``). One gemm call, or a gemv (where the scalars give its address) for one
    output row (out = 1: xᵀ g) or column (in = 1: gᵀ x). ``size``: the item size of
    ``dtype``."""
    values = carray(address_as_pointer(scalars, np.float64), 6)
    out_f, in_f, total, count = int(values[0]), int(values[1]), int(values[2]), int(values[3])
    gemm, gemv = int(values[4]), int(values[5])
    index = part_index((g - base) // (out_f * size), count, total, starts)
    target = out if index == 0 else parts + (index - 1) * out_f * in_f * size
    one, zero = dtype(1), dtype(0)
    if gemv != 0 and out_f == 1:
        call_gemv(gemv, TRANS, rows, in_f, one, x, in_f, g, 1, zero, target, 1)
    elif gemv != 0 and in_f == 1:
        call_gemv(gemv, TRANS, rows, out_f, one, g, out_f, x, 1, zero, target, 1)
    else:
        call_gemm(gemm, TRANS, NO_TRANS, out_f, in_f, rows, one, g, out_f, x, in_f, zero,
                  target, in_f)


def _part_f32(rows, g, x, out, parts, starts, base, scalars):  # pragma: no cover - compiled
    """A C entry point for ``run_parts``: ``_part`` on float32 arrays."""
    _part(rows, g, x, out, parts, starts, base, scalars, np.float32, 4)


def _part_f64(rows, g, x, out, parts, starts, base, scalars):  # pragma: no cover - compiled
    """``part_f32`` for float64 arrays."""
    _part(rows, g, x, out, parts, starts, base, scalars, np.float64, 8)


@numba.njit(error_model="numpy", cache=True)
def split_product(g, x, out, split, blas):  # pragma: no cover - compiled
    """out [out, in] = gᵀ x for g [n, out], x [n, in], and whether the parts were as expected
    (else out holds nothing of use): a part (the entry point ``blas[ROWS_PART]``, ``part_*``:
    MKL's gemm where the row has one, else OpenBLAS's gemm or gemv; ``blas``:
    ``native.blas_functions``) on each of ``split[2]`` ranges of rows through
    ``split`` (a ``blas_split.Splitter.row``), OpenBLAS on one thread meanwhile, the first
    into ``out``, then the others' products added in the order of their rows (a loop: an
    array's ``+=`` in numba takes several times as long)."""
    n, out_f = g.shape
    in_f = x.shape[1]
    count = split[2]
    parts = np.empty((count - 1, out_f, in_f), g.dtype)
    starts = np.full(count, -1, np.int64)
    mkl = blas[native.MKL]  # MKL's gemm (``mkl_products.GEMM``, the row's first), or 0
    scalars = np.array([out_f, in_f, n, count, mkl if mkl != 0 else blas[native.GEMM],
                        0 if mkl != 0 else blas[native.GEMV]], np.float64)
    addresses = (g.ctypes.data, x.ctypes.data, out.ctypes.data, parts.ctypes.data,
                 starts.ctypes.data, g.ctypes.data)
    strides = (out_f * g.itemsize, in_f * g.itemsize, 0, 0, 0, 0)
    before = get_threads(blas[native.GET_THREADS])
    set_threads(blas[native.SET_THREADS], 1)
    run_parts(split, blas[native.ROWS_PART], n, addresses, strides, scalars)
    set_threads(blas[native.SET_THREADS], before)
    if not in_order(starts):
        return False  # not the near-equal ranges the parts' indices assume
    for p in range(count - 1):
        part = parts[p]
        for o in range(out_f):
            row, add = out[o], part[o]
            for k in range(in_f):
                row[k] += add[k]
    return True


def product_over_rows(g: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """gᵀ x [out, in] for C-contiguous float32 or float64 g [n, out], x [n, in] of one
    dtype, by parts of rows on OpenBLAS's threads; None, computing nothing, where it cannot
    split (no splitter, gemm or thread functions; one thread; fewer than 4·threads² rows;
    parts not as expected)."""
    found = blas_split.splitter()
    blas = native.blas_functions(g.dtype)
    if found is None or blas[native.ROWS_PART] == 0:
        return None
    split = found.row(0)
    count = int(split[2])
    if count < 2 or g.shape[0] < count * count * 4:
        return None
    out = np.empty((g.shape[1], x.shape[1]), g.dtype)
    return out if split_product(g, x, out, split, blas) else None


__getattr__ = on_first_use(globals(), {"part_f32": _part_f32, "part_f64": _part_f64})
"""The C entry points, compiled on first use (``ffnn.kernels.first_use``)."""
