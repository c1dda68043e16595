"""Samplers with torch's names: which dataset indices an epoch visits, in what order.

A sampler is an iterable of indices with a ``len``; pass it as ``DataLoader(sampler=...)``.
Random samplers draw from ``generator`` or the global seeded generator (``ffnn.manual_seed``)
each time they are iterated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ffnn import random as _random
from ffnn import torch_stream
from ffnn.tensor import Tensor


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and ``__len__``; generic as
    torch's (``class MySampler(Sampler[int])``)."""

    def __class_getitem__(cls, item):
        return cls

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, …, len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or ``num_samples`` of them: without replacement
    whole permutations one after another, the last cut short (torch's); with replacement
    independent draws.

    Raises TypeError for a ``replacement`` that is not a bool, ValueError for a
    ``num_samples`` (the dataset's size by default) that is not a positive int, as torch's."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """``num_samples`` as given, else the dataset's size (read at each use)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        """torch's draws: without a generator, one seeded by a draw of the global one."""
        n, generator = len(self.data_source), self.generator
        if n == 0:
            return iter([])
        if generator is None:
            generator = _random.Generator(torch_stream.random_int64(None))
        if self.replacement:
            return iter(torch_stream.integers(generator, (len(self),), np.int64, 0, n).tolist())
        rounds = [torch_stream.permutation(generator, n) for _ in range(len(self) // n + 1)]
        return iter(np.concatenate(rounds)[:len(self)].tolist())


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices: Sequence[int], generator=None):
        self.indices, self.generator = np.asarray(indices, dtype=np.int64), generator

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices[torch_stream.permutation(self.generator, len(self.indices))]
                    .tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``: torch's
    ``multinomial(weights, num_samples, replacement, generator=generator)``, so its numbers."""

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        w = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, np.float64)
        if w.ndim != 1 or w.size == 0 or (w < 0).any() or not np.isfinite(w).all() \
                or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be a non-empty 1-D sequence "
                             "of non-negative finite numbers with a positive sum")
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
                or num_samples <= 0:
            raise ValueError("WeightedRandomSampler: num_samples should be a positive integer "
                             f"value. Received: num_samples={num_samples!r}")
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError(f"WeightedRandomSampler: num_samples={num_samples} exceeds the "
                             "number of non-zero weights without replacement")
        self.num_samples = int(num_samples)
        self.replacement, self.generator = replacement, generator
        self.weights = Tensor._of(w)  # torch's attribute: the weights as given, float64

    def __iter__(self) -> Iterator[int]:
        drawn = self.weights.multinomial(self.num_samples, self.replacement,
                                         generator=self.generator)
        return iter(drawn.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        self.sampler, self.batch_size, self.drop_last = sampler, int(batch_size), drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for index in self.sampler:
            batch.append(int(index))
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
