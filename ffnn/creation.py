"""Creating tensors, with torch's names and dtype rules (``ffnn.tensor``, ``zeros``, ``randn`` …).

Random factories draw from ``generator`` or the global seeded generator (``ffnn.manual_seed``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ffnn import dtypes, ops
from ffnn import random as _random
from ffnn.tensor import Tensor, _data_of, _shape_args, _to_array


def tensor(data: Any, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (list, number, ndarray, Tensor)."""
    array = _to_array(data, dtype)
    if isinstance(data, np.ndarray) and array is data:
        array = array.copy()
    return Tensor(array, requires_grad=requires_grad)


def as_tensor(data: Any, dtype=None) -> Tensor:
    """A tensor sharing memory with ``data`` where possible."""
    return data if isinstance(data, Tensor) and dtype is None else Tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    return Tensor(np.asarray(array))


def _sizes(size) -> tuple:
    return _shape_args(size)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_sizes(size), dtypes.to_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_sizes(size), dtypes.to_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return Tensor(np.full(tuple(size), fill_value, dtypes.to_dtype(dtype)), requires_grad)


def zeros_like(t: Tensor, dtype=None) -> Tensor:
    return Tensor(np.zeros_like(_data_of(t), dtype=dtype and dtypes.to_dtype(dtype)))


def ones_like(t: Tensor, dtype=None) -> Tensor:
    return Tensor(np.ones_like(_data_of(t), dtype=dtype and dtypes.to_dtype(dtype)))


def eye(n: int, m: int | None = None, dtype=None) -> Tensor:
    return Tensor(np.eye(n, m, dtype=dtypes.to_dtype(dtype)))


def arange(start, end=None, step=1, dtype=None) -> Tensor:
    array = np.arange(start, end, step) if end is not None else np.arange(start)
    return Tensor(array, dtype=dtype) if dtype is not None else Tensor(_to_array(array.tolist()))


def linspace(start, end, steps: int, dtype=None) -> Tensor:
    return Tensor(np.linspace(start, end, steps, dtype=dtypes.to_dtype(dtype)))


def randn(*size, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the seeded generator."""
    array = _random.rng(generator).standard_normal(_sizes(size)).astype(dtypes.to_dtype(dtype))
    return Tensor(array, requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) from the seeded generator."""
    array = _random.rng(generator).random(_sizes(size)).astype(dtypes.to_dtype(dtype))
    return Tensor(array, requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None) -> Tensor:
    if high is None:
        low, high = 0, low
    array = _random.rng(generator).integers(low, high, size=tuple(size))
    return Tensor(array.astype(dtypes.to_dtype(dtype or "int64")))


def randperm(n: int, generator=None) -> Tensor:
    return Tensor(_random.rng(generator).permutation(n).astype(np.int64))


def cat(tensors, dim: int = 0) -> Tensor:
    return ops.concatenate(tensors, dim)


concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    return ops.stack(tensors, dim)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)
