"""``ffnn.utils.data`` as torch's path, the samplers, and DataLoader's torch keywords."""

import numpy as np
import pytest

import ffnn
from ffnn.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)


def _dataset(n=10):
    return TensorDataset(ffnn.arange(float(n)).view(-1, 1), ffnn.arange(n))


def _labels(loader):
    return [batch[1].tolist() for batch in loader]


def test_utils_data_is_ffnn_data():
    import ffnn.data
    import ffnn.utils.data

    assert ffnn.utils.data.DataLoader is ffnn.data.DataLoader
    assert ffnn.utils.data.TensorDataset is ffnn.data.TensorDataset
    assert ffnn.utils.data.random_split is ffnn.data.random_split
    from ffnn.utils.data.sampler import SubsetRandomSampler as Sampler  # noqa: F401


@pytest.mark.parametrize("workers", [1, 4])
def test_num_workers_gives_the_same_batches_as_none(workers):
    plain = DataLoader(_dataset(), batch_size=3, shuffle=True,
                       generator=ffnn.Generator().manual_seed(5))
    many = DataLoader(_dataset(), batch_size=3, shuffle=True, num_workers=workers,
                      pin_memory=True, persistent_workers=True, prefetch_factor=2,
                      worker_init_fn=lambda i: None, generator=ffnn.Generator().manual_seed(5))
    assert _labels(plain) == _labels(many)
    with pytest.raises(ValueError, match="num_workers must be a non-negative integer"):
        DataLoader(_dataset(), num_workers=-1)


def test_drop_last_and_collate_fn():
    loader = DataLoader(_dataset(), batch_size=4, drop_last=True)
    assert len(loader) == 2 and _labels(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    sums = DataLoader(_dataset(), batch_size=4,
                      collate_fn=lambda items: sum(int(y) for _, y in items))
    assert list(sums) == [6, 22, 17]


def test_samplers():
    data = _dataset()
    assert _labels(DataLoader(data, batch_size=4, sampler=SequentialSampler(data))) == [
        [0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    ffnn.manual_seed(2)
    order = [y for batch in _labels(DataLoader(data, batch_size=4, sampler=RandomSampler(data)))
             for y in batch]
    assert sorted(order) == list(range(10)) and order != list(range(10))
    subset = SubsetRandomSampler([1, 3, 5], generator=ffnn.Generator().manual_seed(1))
    assert sorted(i for b in _labels(DataLoader(data, batch_size=2, sampler=subset))
                  for i in b) == [1, 3, 5]
    weighted = WeightedRandomSampler([0, 0, 1, 0, 0, 0, 0, 0, 0, 3.0], num_samples=40)
    drawn = list(weighted)
    assert len(drawn) == 40 and set(drawn) <= {2, 9} and drawn.count(9) > drawn.count(2)
    assert len(RandomSampler(data, replacement=True, num_samples=25)) == 25
    with pytest.raises(ValueError, match="non-negative finite numbers"):
        WeightedRandomSampler([-1.0, 2.0], 3)


def test_batch_sampler():
    data = _dataset()
    batches = BatchSampler(SequentialSampler(data), batch_size=3, drop_last=False)
    assert list(batches) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(batches) == 4
    loader = DataLoader(data, batch_sampler=batches)
    assert len(loader) == 4 and _labels(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert len(BatchSampler(SequentialSampler(data), 3, drop_last=True)) == 3
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        DataLoader(data, batch_size=2, batch_sampler=batches)


def test_torch_style_positional_arguments():
    data = _dataset(6)
    loader = DataLoader(data, 2, False, None, None, 0)  # dataset, batch_size, shuffle, sampler…
    assert _labels(loader) == [[0, 1], [2, 3], [4, 5]]
    features = np.concatenate([b[0].numpy() for b in loader])
    assert features.shape == (6, 1)


@pytest.mark.parametrize("items", [
    [1.0, 2.5], [1, 2], [True, False], [np.float32(1.0), np.float32(2.0)],
    [np.float64(0.5)], [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
    [{"x": 0.5, "n": 3}, {"x": 1.5, "n": 4}], [(1.0, 2), (3.0, 4)],
])
def test_default_collate_gives_torchs_dtypes(items):
    from torch.utils.data import default_collate as torch_collate

    from ffnn.data import default_collate

    def flat(batch):
        if isinstance(batch, dict):
            return [v for k in sorted(batch) for v in flat(batch[k])]
        if isinstance(batch, (tuple, list)):
            return [v for b in batch for v in flat(b)]
        return [batch]

    ours, theirs = flat(default_collate(items)), flat(torch_collate(items))
    assert [str(o.dtype) for o in ours] == [str(t.dtype).removeprefix("torch.") for t in theirs]
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_default_collate_structures_as_torch():
    """Tuple and list samples give a list of fields (a namedtuple its own type), strings the
    sequence of them as collated (a tuple from a tuple sample), as torch's."""
    from collections import namedtuple

    from torch.utils.data import default_collate as torch_collate

    from ffnn.data import default_collate

    pair = namedtuple("Pair", "x y")

    def shape(batch):
        if isinstance(batch, (list, tuple)) and not isinstance(batch, str):
            return type(batch).__name__, [shape(b) for b in batch]
        if isinstance(batch, dict):
            return {k: shape(v) for k, v in batch.items()}
        return batch if isinstance(batch, str) else batch.tolist()

    for samples in ([("a", 1.0), ("b", 2.0)], [[1, 2], [3, 4]], [(np.array(1), "a")],
                    [{"x": 1.0, "y": (2, "s")}] * 2, [pair(1.0, 2), pair(3.0, 4)], ["a", "b"]):
        assert shape(default_collate(samples)) == shape(torch_collate(samples))
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (3,)])
