"""DataLoader: coverage, drop_last, seeded shuffling, resume, augmentation, samplers."""

import json

import numpy as np
import pytest

import ffnn
from ffnn.data import ArrayDataset, DataLoader, Dataset, TensorDataset, random_split


def _dataset(n=23, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    return ArrayDataset(X, np.arange(n))


def _order(loader):
    return np.concatenate([y.numpy() for _, y in loader])


class ListDataset(Dataset):
    """A generic (not array-backed) dataset: the slow per-item path."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.array([3.0 * i, 3.0 * i + 1, 3.0 * i + 2]), i


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("make", [_dataset, lambda: ListDataset(23)])
def test_each_epoch_covers_dataset_exactly_once(shuffle, make):
    loader = DataLoader(make(), batch_size=5, shuffle=shuffle, generator=ffnn.Generator(0))
    assert len(loader) == 5
    for _ in range(2):
        batches = list(loader)
        assert [len(b[1].data) for b in batches] == [5, 5, 5, 5, 3]
        assert np.array_equal(np.sort(_order(batches)), np.arange(23))
        for x, y in batches:  # inputs stay paired with their labels
            assert np.array_equal(x.data[:, 0], 3 * y.data)


def test_batch_types_and_dtypes():
    loader = DataLoader(TensorDataset(np.ones((4, 2), np.float64), np.arange(4, dtype=np.int32)),
                        batch_size=3)
    x, y = next(iter(loader))
    assert isinstance(x, ffnn.Tensor) and isinstance(y, ffnn.Tensor)
    assert x.dtype == np.float64 and y.dtype == np.int32 and not x.requires_grad  # kept
    x, y = next(iter(DataLoader(ListDataset(4), batch_size=2)))
    assert x.dtype == np.float64 and y.dtype == np.int64 and x.shape == (2, 3)
    (v,) = next(iter(DataLoader([(0.5,), (1.5,)], batch_size=2)))  # python floats -> float64
    assert v.dtype == np.float64 and np.array_equal(v.numpy(), [0.5, 1.5])


def test_unshuffled_order_is_sequential():
    assert np.array_equal(_order(DataLoader(_dataset(), batch_size=4)), np.arange(23))


def test_drop_last():
    loader = DataLoader(_dataset(), batch_size=5, drop_last=True)
    assert len(loader) == 4
    sizes = [len(y.data) for _, y in loader]
    assert sizes == [5, 5, 5, 5]


def test_shuffle_same_seed_bit_identical_and_different_seed_differs():
    def run(seed):
        ffnn.manual_seed(seed)
        loader = DataLoader(_dataset(), batch_size=4, shuffle=True)
        return [np.concatenate([x.numpy().ravel() for x, _ in loader]) for _ in range(3)]

    a, b, c = run(7), run(7), run(8)
    for ea, eb in zip(a, b):
        assert ea.tobytes() == eb.tobytes()
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], a[1])  # a new order each epoch


def test_explicit_generator_independent_of_global_seed():
    ffnn.manual_seed(1)
    a = _order(DataLoader(_dataset(), 4, True, generator=ffnn.Generator(5)))
    ffnn.manual_seed(2)
    b = _order(DataLoader(_dataset(), 4, True, generator=ffnn.Generator(5)))
    assert np.array_equal(a, b)


def test_resume_from_generator_state_after_epoch():
    loader = DataLoader(_dataset(), batch_size=4, shuffle=True, generator=ffnn.Generator(3))
    for _ in range(2):
        list(loader)
    state = json.loads(json.dumps(loader.generator.get_state()))  # through a checkpoint
    expected = _order(loader)  # epoch 3 of the uninterrupted run

    g = ffnn.Generator()
    g.set_state(state)
    resumed = DataLoader(_dataset(), batch_size=4, shuffle=True, generator=g)
    assert np.array_equal(_order(resumed), expected)


def test_resume_global_seed_via_rng_state():
    ffnn.manual_seed(11)
    loader = DataLoader(_dataset(), batch_size=4, shuffle=True)
    list(loader)
    state = ffnn.get_rng_state()
    expected = _order(loader)
    ffnn.manual_seed(999)
    ffnn.set_rng_state(state)
    assert np.array_equal(_order(DataLoader(_dataset(), batch_size=4, shuffle=True)), expected)


@pytest.mark.parametrize("explicit", [True, False])
def test_resume_mid_epoch_with_state_dict(explicit):
    def make():
        gen = ffnn.Generator(4) if explicit else None
        return DataLoader(_dataset(), batch_size=4, shuffle=True, generator=gen,
                          augment=lambda x, rng: x + rng.standard_normal(x.shape, np.float32))

    ffnn.manual_seed(0)
    full = make()
    epoch1 = [x.numpy() for x, _ in full]
    it = iter(full)
    seen = [next(it)[0].numpy() for _ in range(2)]
    state = json.loads(json.dumps(full.state_dict()))
    rest = [x.numpy() for x, _ in it]
    epoch3 = [x.numpy() for x, _ in full]
    assert state["batch_index"] == 2 and state["epoch"] == 1

    resumed = make()
    if explicit:
        list(resumed)  # even a loader that has run elsewhere resumes exactly
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state  # a checkpoint taken before iterating keeps it
    got = [x.numpy() for x, _ in resumed]
    assert len(got) == len(rest)
    for a, b in zip(got, rest):
        assert a.tobytes() == b.tobytes()
    if explicit:  # the generator continues where the uninterrupted run's did
        assert all(a.tobytes() == b.tobytes() for a, b in
                   zip([x.numpy() for x, _ in resumed], epoch3))
    assert not np.array_equal(epoch1[0], seen[0])  # a new order (and noise) per epoch


def test_fast_path_through_subset():
    train, _ = random_split(_dataset(), [17, 6], generator=ffnn.Generator(0))
    loader = DataLoader(train, batch_size=5)
    assert loader._source is not None  # fancy-indexes the base arrays
    assert np.array_equal(_order(loader), train.indices)


def test_augment_applied_to_inputs_only_and_seeded():
    def shift(x, rng):
        return x + 100.0

    out = next(iter(DataLoader(_dataset(), batch_size=4, augment=shift)))
    assert np.array_equal(out[0].data, _dataset().X[:4] + 100) and np.array_equal(out[1].data,
                                                                                  np.arange(4))
    noisy = [np.concatenate([x.numpy() for x, _ in DataLoader(
        _dataset(), 4, generator=ffnn.Generator(9),
        augment=lambda x, rng: x + rng.random(x.shape))]) for _ in range(2)]
    assert noisy[0].tobytes() == noisy[1].tobytes()
    assert not np.array_equal(noisy[0], _dataset().X)


def test_augment_with_targets():
    class Swap:
        needs_targets = True

        def __call__(self, x, y, rng):
            return x * 0, y.astype(np.float32) + 0.5

    x, y = next(iter(DataLoader(_dataset(), batch_size=3, augment=Swap())))
    assert np.all(x.data == 0) and np.array_equal(y.data, [0.5, 1.5, 2.5])


class EvenSampler:
    def __init__(self, n):
        self.n, self.epoch = n, 0

    def __iter__(self):
        return iter(range(self.epoch % 2, self.n, 2))

    def __len__(self):
        return len(range(self.epoch % 2, self.n, 2))

    def set_epoch(self, epoch):
        self.epoch = epoch


def test_sampler_decides_order_and_set_epoch_forwards():
    loader = DataLoader(_dataset(), batch_size=4, sampler=EvenSampler(23))
    assert len(loader) == 3
    assert np.array_equal(_order(loader), np.arange(0, 23, 2))
    loader.set_epoch(1)
    assert np.array_equal(_order(loader), np.arange(1, 23, 2))


def test_custom_collate_fn():
    loader = DataLoader(_dataset(), batch_size=4, collate_fn=lambda items: len(items))
    assert list(loader)[-1] == 3


def test_argument_errors():
    ds = _dataset()
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer. Received: "
                                         r"batch_size=0"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match=r"mutually exclusive"):
        DataLoader(ds, shuffle=True, sampler=EvenSampler(23))
    with pytest.raises(TypeError, match=r"generator must be an ffnn.Generator or None. "
                                        r"Received: generator of type int"):
        DataLoader(ds, generator=3)
    with pytest.raises(TypeError, match=r"augment must be callable. Received: augment=1"):
        DataLoader(ds, augment=1)
    with pytest.raises(TypeError, match=r"must define __len__ and __getitem__ \(map-style\), "
                                        r"or be an IterableDataset. Received: dataset of "
                                        r"type int"):
        DataLoader(5)
    with pytest.raises(KeyError, match=r"missing keys \['batch_index', 'epoch'\]"):
        DataLoader(ds).load_state_dict({"generator": None})


def test_weighted_sampler_needs_a_positive_num_samples():
    from ffnn.data import WeightedRandomSampler

    with pytest.raises(ValueError, match=r"num_samples should be a positive integer value. "
                                         r"Received: num_samples=0"):
        WeightedRandomSampler([1.0, 1.0], 0)


@pytest.mark.parametrize("shuffle", [False, True])
def test_gathered_epochs_give_the_batches_fetched_one_by_one(shuffle, monkeypatch):
    """An array dataset's epoch is gathered once and sliced; above GATHER_BYTES each batch is
    fetched on its own. Same seed: the same batches, values and dtypes either way."""
    from ffnn.data import loader as loader_module

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(53, 3)).astype(np.float32), rng.integers(0, 4, 53).astype(np.int32)

    def epochs(limit):
        monkeypatch.setattr(loader_module, "GATHER_BYTES", limit)
        loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=shuffle,
                            generator=ffnn.Generator(3))
        return [[(xb.numpy().copy(), yb.numpy().copy()) for xb, yb in loader] for _ in range(2)]

    gathered, fetched = epochs(1 << 30), epochs(0)
    for epoch_a, epoch_b in zip(gathered, fetched):
        assert len(epoch_a) == len(epoch_b) == 7
        for (xa, ya), (xb, yb) in zip(epoch_a, epoch_b):
            assert xa.dtype == xb.dtype and ya.dtype == yb.dtype == np.int32
            np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ya, yb)
    assert shuffle == (not np.array_equal(gathered[0][0][0], gathered[1][0][0]))
