"""``ffnn.utils.data.sampler``: torch's path to the samplers (:mod:`ffnn.data.sampler`)."""

from ffnn.data.sampler import (  # noqa: F401 - re-exported under torch's module path
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
