"""``ffnn.utils.data.dataset``: torch's path to the datasets (:mod:`ffnn.data.datasets`)."""

from ffnn.data.concat import ConcatDataset, StackDataset  # noqa: F401 - torch's path
from ffnn.data.datasets import (  # noqa: F401 - re-exported under torch's module path
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)
from ffnn.data.iterable import ChainDataset, IterableDataset  # noqa: F401 - torch's path
