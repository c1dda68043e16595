"""The indices ``topk`` returns, without sorting whole rows.

``topk`` returns what a stable sort of each row would put first: the k smallest keys (the
values, negated for the largest; NaN last), ties in index order. Sorting every row to keep
k of them took 28 ms for k = 5 of [2048, 256] float32, 7x torch's. For a small k a compiled
pass keeps a sorted buffer of k a row, a key entering only before a larger one (so ties
keep index order); without numba, a partition finds each row's k-th key, the keys below it
and the first of its ties are the k picked, and only those are sorted. Either way the
result is the full stable sort's first k, index for index.
"""

from __future__ import annotations

import numpy as np

from ffnn import accel

BUFFER_MAX = 64
"""Largest k for the compiled pass (each key may move up to k entries of the buffer)."""


def top_k_indices(keys: np.ndarray, k: int, dim: int) -> np.ndarray:
    """The first ``k`` indices along ``dim`` of ``np.argsort(keys, axis=dim, kind="stable")``
    (int64; ``keys`` an integer or float array with at least one axis, 0 <= k <= its size
    along ``dim``)."""
    n = keys.shape[dim]
    rows = np.moveaxis(keys, dim, -1)
    if 0 < k <= BUFFER_MAX and 4 * k < n and accel.enabled and \
            (keys.dtype.char in "fd" or keys.dtype.kind in "iu"):
        flat = np.ascontiguousarray(rows).reshape(-1, n)
        out = np.empty((flat.shape[0], k), np.int64)
        accel._kernels().top_k_rows(flat, k, out)
        return np.moveaxis(out.reshape(rows.shape[:-1] + (k,)), -1, dim)
    if k == 0 or 4 * k >= n or (keys.dtype.kind == "f" and np.isnan(keys).any()):
        order = np.argsort(rows, axis=-1, kind="stable")[..., :k]
        return np.moveaxis(order, -1, dim).astype(np.int64, copy=False)
    kth = np.partition(rows, k - 1, axis=-1)[..., k - 1:k]
    picked = rows <= kth
    if not (picked.sum(axis=-1) == k).all():  # more ties of the k-th key than places left
        below, tied = rows < kth, rows == kth
        wanted = k - below.sum(axis=-1, keepdims=True)
        picked = below | (tied & (np.cumsum(tied, axis=-1) <= wanted))  # exactly k a row
    indices = np.nonzero(picked.reshape(-1, n))[1].reshape(rows.shape[:-1] + (k,))
    order = np.argsort(np.take_along_axis(rows, indices, axis=-1), axis=-1, kind="stable")
    return np.moveaxis(np.take_along_axis(indices, order, axis=-1), -1, dim).astype(np.int64)
