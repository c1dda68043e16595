"""``sparse_`` (Martens, 2010, "Deep learning via Hessian-free optimization"): a 2-D weight drawn
from N(0, std²), then in each column a random ``ceil(sparsity · rows)`` of its entries set to
zero, as torch's ``nn.init.sparse_``; ``sparse`` is its deprecated spelling."""

from __future__ import annotations

import math

import numpy as np

from ffnn import random as _random
from ffnn.nn.init import _deprecated, _fill


def sparse_(tensor, sparsity: float, std: float = 0.01, generator=None):
    """Fill the [rows, cols] ``tensor`` with N(0, std²), then zero ceil(sparsity · rows)
    entries of every column, at rows drawn without replacement (one ``generator`` draws all).
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
    rng = _random.rng(generator)
    values = rng.normal(0.0, std, (rows, cols))
    zero_rows = np.argsort(rng.random((rows, cols)), axis=0)[:math.ceil(sparsity * rows)]
    values[zero_rows, np.arange(cols)] = 0.0
    return _fill(tensor, values)


sparse = _deprecated(sparse_)
