"""``ffnn.utils.data``: torch's path to the data tools (``from torch.utils.data import
DataLoader``); the same objects as :mod:`ffnn.data`."""

from ffnn.data import *  # noqa: F403 - a re-export under torch's module path
from ffnn.data import __all__ as _data_all
from ffnn.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ffnn.utils.data import dataloader, dataset, sampler

__all__ = [*_data_all, "sampler", "dataset", "dataloader", "Sampler", "SequentialSampler",
           "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler"]
