"""Datasets (torch's names): ``Dataset``, ``TensorDataset``, ``ArrayDataset``, ``Subset``,
``random_split``, and a numpy ``train_test_split`` with optional stratification.

``TensorDataset`` and ``ArrayDataset`` are *array-backed*: they expose ``.arrays`` (a tuple of
ndarrays sharing the first dimension) so ``DataLoader`` can build a batch with one fancy index
per array instead of a Python loop over samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ffnn import dtypes, torch_stream
from ffnn import random as _random
from ffnn.data._checks import as_numeric, check_finite
from ffnn.tensor import Tensor


class Dataset:
    """A map-style dataset: ``len(ds)`` samples, ``ds[i]`` the i-th one."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> Dataset:
        """``ds1 + ds2``: a ConcatDataset of both."""
        from ffnn.data.concat import ConcatDataset

        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are ``(t[i] for t in tensors)``; tensors are ffnn Tensors or numpy arrays.

    Raises ValueError when the tensors do not share their first dimension.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor. Received: no tensors")
        arrays = tuple(t._data if isinstance(t, Tensor) else np.asarray(t) for t in tensors)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {i} is a scalar; every tensor needs a first "
                    f"(sample) dimension. Received: shapes {[x.shape for x in arrays]}"
                )
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(
                "TensorDataset: all tensors must have the same size in the first dimension. "
                f"Received: sizes {sizes} (shapes {[a.shape for a in arrays]})"
            )
        self.tensors = tensors
        self.arrays = arrays
        self._wrap = tuple(isinstance(t, Tensor) for t in tensors)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(Tensor._make(a[index], False, None) if w else a[index]
                     for a, w in zip(self.arrays, self._wrap))


class ArrayDataset(Dataset):
    """Features ``X`` [n, d] (finite floats) and optional targets ``y`` [n] or [n, k].

    Integer or bool ``X`` becomes the default float dtype (float32); float ``X`` keeps its
    dtype; integer ``y`` (class labels) becomes int64, torch's label dtype. Samples are
    ``(X[i], y[i])`` or ``(X[i],)`` as numpy arrays.
    Raises TypeError (non-numeric), ValueError (wrong ndim, NaN/inf, length mismatch).
    """

    def __init__(self, X, y=None):
        owner = "ArrayDataset"
        X = as_numeric(X, "X", owner)
        if X.ndim != 2:
            raise ValueError(
                f"{owner}: X must be a 2-D (n_samples, n_features) array. "
                f"Received: X with shape {X.shape}"
            )
        if X.dtype.kind != "f":
            X = X.astype(dtypes.get_default_dtype())
        check_finite(X, "X", owner)
        arrays = (X,)
        if y is not None:
            y = as_numeric(y, "y", owner)
            if y.ndim not in (1, 2):
                raise ValueError(
                    f"{owner}: y must be 1-D (n_samples,) or 2-D (n_samples, n_targets). "
                    f"Received: y with shape {y.shape}"
                )
            if y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"{owner}: X and y must have the same number of samples. "
                    f"Received: X with {X.shape[0]} rows, y with {y.shape[0]}"
                )
            check_finite(y, "y", owner)
            if y.dtype.kind in "iu":
                y = y.astype(np.int64, copy=False)
            arrays = (X, y)
        self.X, self.y = X, y
        self.arrays = arrays

    def __len__(self) -> int:
        return self.X.shape[0]

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order). ``indices`` is kept as
    given (``random_split``'s are lists, as torch's: ``a.indices + b.indices`` joins them);
    ``positions`` is the same as an int64 array."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset, self.indices = dataset, indices
        self.positions = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.positions.size and (self.positions.min() < -n or self.positions.max() >= n):
            raise IndexError(
                f"Subset: indices must lie in [0, {n}) for a dataset of {n} samples. "
                f"Received: min {self.positions.min()}, max {self.positions.max()}"
            )

    def __len__(self) -> int:
        return int(self.positions.size)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[self.positions[index]]
        return self.dataset[int(self.positions[index])]

    def __getitems__(self, indices: list[int]) -> list:
        """The samples at ``indices``, read by the dataset's own ``__getitems__`` where it has
        one (a DataLoader's batch), as torch's ``Subset``."""
        positions = [int(self.positions[i]) for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        return getitems(positions) if getitems else [self.dataset[i] for i in positions]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Integer lengths from ints or fractions summing to 1 (torch's rounding: remainders
    go one each to the first splits)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty. Received: lengths=[]")
    if all(isinstance(x, (int, np.integer)) for x in lengths):
        if any(x < 0 for x in lengths) or sum(lengths) != n:
            raise ValueError(
                "random_split: integer lengths must be non-negative and sum to the dataset "
                f"size {n}. Received: lengths={lengths} (sum {sum(lengths)})"
            )
        return [int(x) for x in lengths]
    if any(not 0 <= x <= 1 for x in lengths) or not math.isclose(sum(lengths), 1.0,
                                                                   abs_tol=1e-9):
        raise ValueError(
            "random_split: fractional lengths must each be in [0, 1] and sum to 1. "
            f"Received: lengths={lengths} (sum {sum(lengths)})"
        )
    counts = [int(math.floor(n * f)) for f in lengths]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


def random_split(dataset: Dataset, lengths: Sequence[float],
                 generator: _random.Generator | None = None) -> list[Subset]:
    """Split into non-overlapping random ``Subset``s of the given lengths (ints, or fractions
    summing to 1). ``generator`` defaults to the global one (``ffnn.manual_seed``)."""
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    order = torch_stream.permutation(generator, n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b].tolist()) for a, b in zip(bounds[:-1], bounds[1:])]


def _resolve_rng(random_state) -> np.random.Generator:
    if random_state is None or isinstance(random_state, _random.Generator):
        return _random.rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (int, np.integer)) and random_state >= 0:
        return np.random.default_rng(int(random_state))
    raise TypeError(
        "train_test_split: random_state must be None, a non-negative int, an ffnn.Generator "
        f"or a numpy Generator. Received: random_state={random_state!r}"
    )


def _test_count(n: int, test_size: float) -> int:
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, float) and 0.0 < test_size < 1.0:
        n_test = int(math.ceil(test_size * n))
    else:
        raise ValueError(
            "train_test_split: test_size must be a float in (0, 1) or an int in [1, n_samples). "
            f"Received: test_size={test_size!r}"
        )
    if not 1 <= n_test < n:
        raise ValueError(
            f"train_test_split: test_size gives {n_test} test samples out of {n}; need at "
            f"least 1 test and 1 train sample. Received: test_size={test_size!r}"
        )
    return n_test


def _stratified_test_indices(labels: np.ndarray, n_test: int,
                             rng: np.random.Generator) -> np.ndarray:
    """Per class ``c`` take ≈ n_test·n_c/n test samples (largest remainder, so totals match)."""
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        bad = classes[int(np.argmin(counts))].item()
        raise ValueError(
            "train_test_split: with stratify, every class needs at least 2 samples. "
            f"Received: class {bad!r} with {counts.min()} sample"
        )
    exact = counts * n_test / labels.shape[0]
    take = np.floor(exact).astype(np.int64)
    remainder = exact - take
    extra = n_test - int(take.sum())
    order = np.lexsort((rng.random(classes.size), -remainder))  # ties broken at random
    take[order[:extra]] += 1
    picks = []
    for c in range(classes.size):  # a loop over classes, not samples
        members = np.flatnonzero(inverse == c)
        picks.append(rng.permutation(members)[: take[c]])
    return np.concatenate(picks)


def train_test_split(X, y, test_size: float = 0.25, stratify=None, random_state=None):
    """Shuffle and split numpy arrays into ``X_train, X_test, y_train, y_test``.

    ``test_size``: fraction (rounded up, like scikit-learn) or count of test samples.
    ``stratify``: labels (usually ``y``) whose class proportions both parts keep.
    ``random_state``: int seed, ``ffnn.Generator``, numpy Generator, or None (global seed).
    """
    X, y = np.asarray(X), np.asarray(y)
    n = X.shape[0] if X.ndim else 0
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError(
            "train_test_split: X and y must have the same number of samples. "
            f"Received: X with shape {X.shape}, y with shape {y.shape}"
        )
    n_test = _test_count(n, test_size)
    rng = _resolve_rng(random_state)
    if stratify is None:
        order = rng.permutation(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    else:
        labels = np.asarray(stratify)
        if labels.shape[:1] != (n,):
            raise ValueError(
                f"train_test_split: stratify must have one label per sample ({n}). "
                f"Received: stratify with shape {labels.shape}"
            )
        if labels.ndim > 1:  # one-hot / multi-column labels: stratify on the row pattern
            labels = np.unique(labels.reshape(n, -1), axis=0, return_inverse=True)[1]
        test_idx = rng.permutation(_stratified_test_indices(labels, n_test, rng))
        mask = np.ones(n, dtype=bool)
        mask[test_idx] = False
        train_idx = rng.permutation(np.flatnonzero(mask))
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]
