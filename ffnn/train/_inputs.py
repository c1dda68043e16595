"""Turning what ``Trainer.fit`` receives into validated arrays and ``DataLoader``s.

``data`` may be ``(X, y)`` arrays (numpy or ffnn Tensors), a ``Dataset`` or a ``DataLoader``.
Arrays are checked at once (2-D float X without NaN/inf, one y per row, labels in range);
datasets and loaders are used as given (their batches are cast to the model's dtype).
"""

from __future__ import annotations

import numpy as np

from ffnn.data import DataLoader, Subset, TensorDataset
from ffnn.data._checks import first_bad_cell
from ffnn.tensor import Tensor


def _plain(array) -> np.ndarray:
    return array._data if isinstance(array, Tensor) else np.asarray(array)


def check_x(X, name: str, owner: str, dtype: np.dtype) -> np.ndarray:
    """X as a finite 2-D array of ``dtype``; ValueError names ``name`` and the first bad row."""
    X = _plain(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must be a numeric array. Received: {name} with dtype "
                        f"{X.dtype}")
    if X.ndim != 2:
        raise ValueError(f"{owner}: {name} must be a 2-D (n_samples, n_features) array. "
                         f"Received: {name} with shape {X.shape}")
    X = X.astype(dtype, copy=False)
    cell = first_bad_cell(X)
    if cell is not None:
        raise ValueError(f"{owner}: {name} must contain only finite values (no NaN or inf); "
                         f"row {cell[0]} (column {cell[1]}) holds {X[cell]}. "
                         f"Received: {name} with shape {X.shape}")
    return X


def check_y(y, n: int, name: str, owner: str, task: str | None, num_outputs: int,
            flat_output: bool = False, *, dtype: np.dtype) -> np.ndarray:
    """Targets for ``task`` ('multiclass', 'binary' or None for regression), one per row,
    shaped as the model's output: [n, 1] for one output column, [n] where the output is
    [n] (``flat_output``: a forward ending in ``.squeeze(1)``)."""
    y = _plain(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must be a numeric array. Received: {name} with dtype "
                        f"{y.dtype}")
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError(f"{owner}: {name} must have one entry per sample of X ({n}). "
                         f"Received: {name} with shape {y.shape}")
    cell = first_bad_cell(y)
    if cell is not None:
        raise ValueError(f"{owner}: {name} must contain only finite values; row {cell[0]} holds "
                         f"{y[cell]}. Received: {name} with shape {y.shape}")
    if task == "multiclass" and y.ndim == 1:
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            row = int(np.argmax(y != np.round(y)))
            raise ValueError(f"{owner}: {name} must hold integer class labels for a "
                             f"cross-entropy loss; row {row} holds {y[row]}. Received: "
                             f"{name} with dtype {y.dtype}")
        y = y.astype(np.int64, copy=False)
        bad = (y < 0) | (y >= num_outputs)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"{owner}: {name} holds class labels in 0..{num_outputs - 1} (the "
                             f"model has {num_outputs} outputs); row {row} holds {y[row]}. "
                             f"Received: labels from {y.min()} to {y.max()}")
        return y
    y = y.astype(dtype, copy=False)
    if task == "binary" and ((y < 0) | (y > 1)).any():
        row = int(np.argmax((y < 0) | (y > 1)))
        raise ValueError(f"{owner}: {name} must lie in [0, 1] for a binary cross-entropy loss; "
                         f"row {row} holds {y.reshape(n, -1)[row]}")
    if flat_output and y.ndim == 2 and y.shape[1] == 1:
        return y[:, 0]  # [n, 1] targets against [n] outputs
    if y.ndim == 1 and num_outputs == 1 and task != "multiclass" and not flat_output:
        y = y[:, None]  # [n] targets against [n, 1] outputs
    return y


def split_last(X: np.ndarray, y: np.ndarray, fraction, owner: str):
    """Keras's ``validation_split``: the last ``fraction`` of the rows, before any shuffling."""
    if isinstance(fraction, bool) or not isinstance(fraction, (float, int)) \
            or not 0 < fraction < 1:
        raise ValueError(f"{owner}: validation_split must be a float in (0, 1). "
                         f"Received: validation_split={fraction!r}")
    n_val = int(len(X) * fraction)
    if n_val < 1 or n_val >= len(X):
        raise ValueError(f"{owner}: validation_split={fraction} leaves {n_val} validation "
                         f"samples out of {len(X)}; need at least 1 in each part")
    return (X[:-n_val], y[:-n_val]), (X[-n_val:], y[-n_val:])


def split_dataset_last(dataset, fraction, owner: str):
    """``validation_split`` for a Dataset: two Subsets (the last fraction for validation)."""
    n = len(dataset)
    idx = np.arange(n)
    (tr, _), (va, _) = split_last(idx, idx, fraction, owner)
    return Subset(dataset, tr), Subset(dataset, va)


def is_pair(data) -> bool:
    return isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data, str)


def array_loader(X: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool,
                 generator, augment) -> DataLoader:
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle,
                      generator=generator, augment=augment)


def as_loader(data, name: str, owner: str, batch_size: int, shuffle: bool, generator,
              augment) -> DataLoader:
    """A DataLoader for a Dataset (or the DataLoader itself)."""
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (np.ndarray, Tensor)) or type(data).__module__ == "torch":
        raise TypeError(f"{owner}: {name} must be (X, y) arrays, a Dataset or a DataLoader; "
                        f"a single array would be read row by row as (x, y) pairs. Pass "
                        f"{name}=(X, y). Received: {name} of type {type(data).__name__} with "
                        f"shape {tuple(data.shape)}")
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        if len(data) == 0:  # before the sampler refuses it in its own words
            raise ValueError(f"{owner}: the {name} data gives no batch (0 samples); at least "
                             f"1 is needed. Received: {name}, a {type(data).__name__} of 0 "
                             "samples")
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator,
                          augment=augment)
    raise TypeError(f"{owner}: {name} must be (X, y) arrays, a Dataset or a DataLoader. "
                    f"Received: {name} of type {type(data).__name__}")


def check_batch_size(batch_size, owner: str, name: str = "batch_size") -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer. "
                         f"Received: {name}={batch_size!r}")
    return int(batch_size)
