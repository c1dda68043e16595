"""``into(src, dst)``: dst = srcᵀ, by square tiles.

A forward x Wᵀ of few rows onto many outputs is faster computed as (W xᵀ)ᵀ on OpenBLAS's
AVX-512 float32 kernels (``ffnn.ops.matrix.transposed_forward``); the product lands in
[out, n] and is copied into the layer's [n, out] output here. Tiles of ``TILE`` × ``TILE``
keep both the rows read and the rows written in cache (a column-by-column copy of [1024, 32]
reads 32 rows 1024 times).
"""

from __future__ import annotations

import numba

from ffnn.kernels import numba_cache

numba_cache.install()  # before the decorators: stamps the cache by every kernel source

TILE = 16


@numba.njit(cache=True)
def into(src, dst):  # pragma: no cover - compiled
    """dst [c, r] = srcᵀ for src [r, c] (C-contiguous both), element by element."""
    r, c = src.shape
    for j0 in range(0, c, TILE):
        j1 = min(j0 + TILE, c)
        for i0 in range(0, r, TILE):
            i1 = min(i0 + TILE, r)
            for j in range(j0, j1):
                row = dst[j]
                for i in range(i0, i1):
                    row[i] = src[i, j]
