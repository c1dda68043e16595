"""Data: datasets, ``DataLoader``, scalers, augmentations and real data sets (torch's names)."""

from ffnn.data.augment import Compose, GaussianNoise, Mixup, RandomShift, shift_images
from ffnn.data.concat import ConcatDataset, StackDataset
from ffnn.data.datasets import (
    ArrayDataset,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
    train_test_split,
)
from ffnn.data.iterable import ChainDataset, IterableDataset, get_worker_info
from ffnn.data.loader import DataLoader, default_collate, default_convert
from ffnn.data.real import (
    Bunch,
    CSVData,
    infer_task,
    load_breast_cancer,
    load_csv,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
)
from ffnn.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from ffnn.data.scalers import MinMaxScaler, StandardScaler
from ffnn.data.table import TableError, read_table
from ffnn.data.tabular import TabularPreprocessor, embedding_dim

__all__ = [
    "Dataset", "ConcatDataset", "StackDataset", "TensorDataset", "ArrayDataset", "Subset",
    "random_split", "train_test_split",
    "DataLoader", "default_collate", "default_convert", "StandardScaler", "MinMaxScaler",
    "GaussianNoise",
    "RandomShift", "Mixup", "Compose", "shift_images", "Bunch", "CSVData", "infer_task",
    "load_digits", "load_breast_cancer", "load_diabetes", "load_iris", "load_wine", "load_csv",
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
    "read_table", "TableError", "TabularPreprocessor", "embedding_dim", "IterableDataset",
    "ChainDataset", "get_worker_info",
]
