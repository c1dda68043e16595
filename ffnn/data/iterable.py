"""Iterable-style datasets (torch's ``IterableDataset``): samples come from ``__iter__``, as
a stream (a file read line by line, a generator), not by index. A ``DataLoader`` batches
them in the order they come: no shuffle, sampler or batch sampler (torch refuses those too).

Batches are made in this process, so ``get_worker_info()`` is always None, as in torch's
main process: a dataset that splits its stream between workers reads all of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class IterableDataset:
    """A dataset whose samples are what ``iter(dataset)`` yields. ``ds1 + ds2`` chains two."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The samples of each dataset in ``datasets`` in turn."""

    def __init__(self, datasets: Iterable[IterableDataset]):
        self.datasets = list(datasets)
        for dataset in self.datasets:
            if not isinstance(dataset, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset. Received: "
                                f"{type(dataset).__name__}")

    def __iter__(self) -> Iterator:
        return itertools.chain.from_iterable(self.datasets)

    def __len__(self) -> int:
        return sum(len(dataset) for dataset in self.datasets)


def get_worker_info() -> None:
    """None: every batch is made in this process (torch's answer outside a worker)."""
    return None


def check_loader_options(shuffle: bool, sampler, batch_sampler) -> None:
    """torch's refusals for a DataLoader over an IterableDataset."""
    for name, value in (("shuffle", shuffle), ("sampler", sampler),
                        ("batch_sampler", batch_sampler)):
        if value:
            raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} "
                             f"option, but got {name}={value!r}")


def batches(dataset: IterableDataset, batch_size: int, drop_last: bool,
            collate: Callable[[list], Any]) -> Iterator:
    """``collate`` of each ``batch_size`` samples of ``iter(dataset)`` in turn (a short last
    batch unless ``drop_last``)."""
    samples = iter(dataset)
    while True:
        items = list(itertools.islice(samples, batch_size))
        if not items or (drop_last and len(items) < batch_size):
            return
        yield collate(items)
