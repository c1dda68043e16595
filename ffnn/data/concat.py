"""``ConcatDataset``: several datasets read as one, one after another (``ds1 + ds2``)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from ffnn.data.datasets import Dataset


class ConcatDataset(Dataset):
    """Sample i is sample i − cumulative_sizes[k−1] of dataset k, the first k with
    i < cumulative_sizes[k]; negative i counts from the end."""

    def __init__(self, datasets: Iterable):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes, total = [], 0
        for dataset in self.datasets:
            total += len(dataset)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        index = int(index)
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        if index >= len(self):
            raise IndexError(f"index {index} is out of range for a dataset of {len(self)}")
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[k - 1] if k else 0
        return self.datasets[k][index - start]



class StackDataset(Dataset):
    """Several datasets of one length read side by side: sample i is the tuple of their
    samples i (``StackDataset(a, b)``), or a dict of them by name (``StackDataset(x=a,
    y=b)``), as torch's."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        datasets = args or tuple(kwargs.values())
        if not datasets:
            raise ValueError("At least one dataset should be passed")
        lengths = {len(dataset) for dataset in datasets}
        if len(lengths) > 1:
            raise ValueError(f"Size mismatch between datasets: lengths {sorted(lengths)}")
        self._length = lengths.pop()
        self.datasets = args if args else dict(kwargs)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {name: dataset[index] for name, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)
