"""A layer's bias written into every row of its output, for BLAS to add the product to
(β = 1: the compiled chains' ``_affine_forward``), by parts of rows on OpenBLAS's threads
when the output is large.

Written by the calling thread alone, [1024, 512] float32 (2 MiB, not in cache) took about
140 µs while OpenBLAS's other thread waited; a part on each thread halves that. Each element
is the bias's, whoever writes it.
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
def fill(z, bias):  # pragma: no cover - compiled
    """z[i, :] = bias for every row of z [n, out]: a loop per element (numba's assignment of
    a row copies the row first, six times as long)."""
    n, width = z.shape
    for i in range(n):
        row = z[i]
        for o in range(width):
            row[o] = bias[o]


@numba.njit(cache=True, inline="always")
def _part(rows, z, bias, scalars, dtype):  # pragma: no cover - compiled
    """``fill`` on ``rows`` rows from the part's first (``z`` its address); ``scalars``: the
    address of the row width (float64)."""
    width = int(carray(address_as_pointer(scalars, np.float64), 1)[0])
    fill(carray(address_as_pointer(z, dtype), (rows, width)),
         carray(address_as_pointer(bias, dtype), width))


def _part_f32(rows, z, bias, a3, a4, a5, a6, scalars):  # pragma: no cover - compiled
    """A C entry point for ``row_parts.run_parts``: ``_part`` on float32 arrays."""
    _part(rows, z, bias, scalars, np.float32)


def _part_f64(rows, z, bias, a3, a4, a5, a6, scalars):  # pragma: no cover - compiled
    """``part_f32`` for float64 arrays."""
    _part(rows, z, bias, scalars, np.float64)


@numba.njit(cache=True, inline="always")
def fill_by_parts(z, bias, split, entry):  # pragma: no cover - compiled
    """``fill`` by parts of rows through ``split`` (a ``blas_split.Splitter.row``) and
    ``entry`` (``part_*``'s address, as ``native.blas_functions`` gives it) where z has
    ``SPLIT_MIN`` elements or more and both split, else whole."""
    n, width = z.shape
    if entry == 0 or split[0] == 0 or split[2] < 2 or z.size < SPLIT_MIN:
        fill(z, bias)
        return
    scalars = np.array([float(width)])
    row_parts.run_parts(split, entry, n, (z.ctypes.data, bias.ctypes.data, 0, 0, 0, 0),
                        (width * z.itemsize, 0, 0, 0, 0, 0), scalars)


__getattr__ = on_first_use(globals(), {"part_f32": _part_f32, "part_f64": _part_f64})
"""The C entry points, compiled on first use (``ffnn.kernels.first_use``)."""
