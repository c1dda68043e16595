"""``swaps(offsets)``: the permutation torch's ``randperm`` builds from its draws.

0, 1, …, n-1, then for each i < n - 1 the entries i and i + offsets[i] swapped, in order
(``ffnn.torch_stream.permutation``; a loop of Python swaps took 11 ms for 60,000 rows, a
DataLoader's shuffle each epoch).
"""

from __future__ import annotations

import numba
import numpy as np

from ffnn.kernels import numba_cache

numba_cache.install()  # before the decorators: stamps the cache by every kernel source


@numba.njit(cache=True)
def swaps(offsets):  # pragma: no cover - compiled
    """The permutation (int64, n = offsets.size + 1) that the swaps give."""
    n = offsets.size + 1
    order = np.arange(n)
    for i in range(n - 1):
        j = i + offsets[i]
        order[i], order[j] = order[j], order[i]
    return order
