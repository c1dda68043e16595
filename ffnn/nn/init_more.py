"""``sparse_`` (Martens, 2010, "Deep learning via Hessian-free optimization"): a 2-D weight drawn
from N(0, std²), then in each column a random ``ceil(sparsity · rows)`` of its entries set to
zero, as torch's ``nn.init.sparse_``; ``sparse`` is its deprecated spelling."""

from __future__ import annotations

import math

from ffnn import torch_stream
from ffnn.nn.init import _deprecated, _fill


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """Fill the [rows, cols] ``tensor`` with N(0, std²), then zero ceil(sparsity · rows)
    entries of every column, at the first rows of a ``randperm(rows)`` per column: torch's
    draws (the normals from ``generator``, the permutations from the global generator, as
    torch's), so torch's numbers after the same seed.
    ValueError (torch's) unless 2-D or for sparsity outside [0, 1]; RuntimeError for
    std < 0."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported. Received: shape "
                         f"{tuple(tensor.shape)}")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparse_: sparsity must be in [0, 1]. Received: sparsity={sparsity}")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    rows, cols = tensor.shape
    values = torch_stream.normal(generator, (rows, cols), tensor._data.dtype, 0.0, std)
    zeros = math.ceil(sparsity * rows)
    for column in range(cols):
        values[torch_stream.permutation(None, rows)[:zeros], column] = 0.0
    return _fill(tensor, values)


sparse = _deprecated(sparse_)
