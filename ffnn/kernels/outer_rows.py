"""An outer product a bᵀ (a matrix product of inner size one: a weight's gradient from one
row, a layer of one input) written row by row, by parts of rows on OpenBLAS's threads when
the result is large.

out[i, j] = a[i] · b[j], each element one product, written once: no zeroing pass, no sum
(a weight gradient of one row was zeroed and then summed into, three passes over the
result). The result is mostly larger than the cache and each element costs a store, so the
calling thread alone is bound by its own store bandwidth: [4096, 1024] float32 took 0.78 ms
on one thread, PyTorch's two threads 0.40 (Intel Xeon). Each element is the same product
whoever writes it.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import carray

from ffnn.accel import SPLIT_MIN
from ffnn.kernels import numba_cache, row_parts
from ffnn.kernels.first_use import on_first_use
from ffnn.kernels.native import address_as_pointer

numba_cache.install()  # before the decorators: stamps the cache by every kernel source


@numba.njit(cache=True, inline="always")
def outer(a, b, out):  # pragma: no cover - compiled
    """out[i, j] = a[i] · b[j] for a [m], b [n], out [m, n] (C-contiguous rows)."""
    for i in range(a.size):
        value, row = a[i], out[i]
        for j in range(b.size):
            row[j] = value * b[j]


@numba.njit(cache=True, inline="always")
def _part(rows, a, b, out, scalars, dtype):  # pragma: no cover - compiled
    """``outer`` on ``rows`` rows from the part's first (``a`` and ``out`` at that row, ``b``
    whole); ``scalars``: the address of the row width (float64)."""
    width = int(carray(address_as_pointer(scalars, np.float64), 1)[0])
    outer(carray(address_as_pointer(a, dtype), rows), carray(address_as_pointer(b, dtype), width),
          carray(address_as_pointer(out, dtype), (rows, width)))


def _part_f32(rows, a, b, out, a4, a5, a6, scalars):  # pragma: no cover - compiled
    """A C entry point for ``row_parts.run_parts`` and ``blas_split.run_arrays``: ``_part`` on
    float32 arrays."""
    _part(rows, a, b, out, scalars, np.float32)


def _part_f64(rows, a, b, out, a4, a5, a6, scalars):  # pragma: no cover - compiled
    """``part_f32`` for float64 arrays."""
    _part(rows, a, b, out, scalars, np.float64)


@numba.njit(cache=True, inline="always")
def outer_by_parts(a, b, out, split, entry):  # pragma: no cover - compiled
    """``outer`` by parts of rows through ``split`` (a ``blas_split.Splitter.row``) and
    ``entry`` (``part_*``'s address, as ``native.blas_functions`` gives it) where out has
    ``SPLIT_MIN`` elements or more and both split, else whole."""
    if entry == 0 or split[0] == 0 or split[2] < 2 or out.size < SPLIT_MIN or a.size < 2:
        outer(a, b, out)
        return
    addresses = (a.ctypes.data, b.ctypes.data, out.ctypes.data, 0, 0, 0)
    strides = (a.itemsize, 0, b.size * out.itemsize, 0, 0, 0)  # b whole in every part
    row_parts.run_parts(split, entry, a.size, addresses, strides, np.array([float(b.size)]))


__getattr__ = on_first_use(globals(), {"part_f32": _part_f32, "part_f64": _part_f64})
"""The C entry points, compiled on first use (``ffnn.kernels.first_use``)."""
