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

