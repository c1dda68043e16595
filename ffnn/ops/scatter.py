"""``add_at``: ``np.add.at`` (a scatter-add, the gradient of every gather) compiled.

The gradient of ``W[idx]`` (an embedding, ``x[rows]``, ``index_select``, ``gather``, ``topk``)
adds each picked row's gradient back into a table of zeros, repeated indices adding up.
NumPy's ``ufunc.at`` steps a general iterator per element: an embedding's gradient (8,192
rows of 128 float32 into a 10,000-row table) took 25 ms, ~7x torch's. A compiled loop
adding row after row, or element after element at positions found by indexing an
``arange`` the same way, does the same additions in the same order (index order, as
``ufunc.at``), so the result is NumPy's bit for bit. Anything else (other dtypes, numba off,
an index NumPy would refuse) runs ``np.add.at`` itself, which also raises its errors.
"""

from __future__ import annotations

import math

import numpy as np

from ffnn import accel
from ffnn.backend import xp

MIN_VALUES = 16
"""Below this many additions NumPy's call is as quick as ours."""


def add_at(out, index, values) -> None:
    """out[index] += values, repeated positions adding up (``np.add.at``), in place."""
    if not _compiled(out, index, values):
        xp(out).add.at(out, index, values)


def _compiled(out, index, values) -> bool:
    if not accel.enabled or type(out) is not np.ndarray or out.dtype.char not in "fd" or \
            not out.flags.c_contiguous or out.ndim == 0 or type(values) is not np.ndarray or \
            values.dtype != out.dtype:
        return False
    rows = _leading_rows(index)
    if rows is not None:
        return _add_rows(out, rows, values)
    if isinstance(index, np.ndarray) and index.dtype == np.bool_ and \
            index.shape == out.shape[:index.ndim]:
        out[index] += values  # a mask picks each position once: no repeats to add up
        return True
    return _add_positions(out, index, values)


def _leading_rows(index) -> np.ndarray | None:
    """The integer array of an index that picks whole rows (``a`` or ``(a, :, …)``, as
    ``index_select(0, a)`` writes it), else None."""
    if isinstance(index, tuple) and index and \
            all(isinstance(part, slice) and part == slice(None) for part in index[1:]):
        index = index[0]
    return index if isinstance(index, np.ndarray) and index.dtype.kind in "iu" else None


def _add_rows(out: np.ndarray, index: np.ndarray, values: np.ndarray) -> bool:
    """Whole rows of ``out`` (its first axis) picked by an integer array."""
    rows, width = out.shape[0], math.prod(out.shape[1:])
    flat = index.reshape(-1)
    if flat.size * width < MIN_VALUES:
        return False
    low, high = int(flat.min()), int(flat.max())
    if low < -rows or high >= rows:
        return False  # NumPy raises its IndexError
    try:
        picked = np.broadcast_to(values, index.shape + out.shape[1:])
    except ValueError:
        return False
    flat = flat.astype(np.intp, copy=False)
    if low < 0:
        flat = np.where(flat < 0, flat + rows, flat)
    accel._kernels().add_rows_at(out.reshape(rows, width), flat,
                                 np.ascontiguousarray(picked).reshape(flat.size, width))
    return True


def _add_positions(out: np.ndarray, index, values: np.ndarray) -> bool:
    """Any other index (slices, masks, several arrays): the flat positions it picks, found
    by indexing an ``arange`` of ``out``'s positions with it."""
    if values.size < MIN_VALUES or values.size * 16 < out.size:  # the arange would cost more
        return False
    try:
        positions = np.arange(out.size, dtype=np.intp).reshape(out.shape)[index]
        picked = np.broadcast_to(values, positions.shape)
    except (IndexError, TypeError, ValueError):
        return False
    accel._kernels().add_at_positions(out.reshape(-1), np.ascontiguousarray(positions).reshape(-1),
                                      np.ascontiguousarray(picked).reshape(-1))
    return True
