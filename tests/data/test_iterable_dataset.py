"""IterableDataset, ChainDataset and a DataLoader over a stream against torch's: the same
batches (values and dtypes), drop_last, len where the stream has one, torch's refusals."""

import numpy as np
import pytest
import torch.utils.data as torch_data

import ffnn
import ffnn.utils.data as ffnn_data


def _stream(data, n: int, offset: int = 0):
    """An IterableDataset of ``data`` (ffnn's or torch's) yielding n (features, label) pairs."""
    class Stream(data.IterableDataset):
        def __iter__(self):
            for i in range(offset, offset + n):
                yield np.float32([i, -i, i / 2]), i % 3

    return Stream()


@pytest.mark.parametrize("batch_size, drop_last", [(4, False), (4, True), (5, False), (1, False),
                                                   (20, False), (20, True)])
def test_batches_as_torchs(batch_size, drop_last):
    found = []
    for data in (ffnn_data, torch_data):
        loader = data.DataLoader(_stream(data, 10), batch_size=batch_size, drop_last=drop_last)
        found.append([(x.numpy(), y.numpy()) for x, y in loader])
    ours, theirs = found
    assert len(ours) == len(theirs)
    for (x, y), (tx, ty) in zip(ours, theirs):
        assert x.dtype == tx.dtype and y.dtype == ty.dtype
        np.testing.assert_array_equal(x, tx)
        np.testing.assert_array_equal(y, ty)


def test_chained_streams_and_their_length():
    class Sized(ffnn_data.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    chained = _stream(ffnn_data, 3) + _stream(ffnn_data, 2, offset=100)
    assert isinstance(chained, ffnn_data.ChainDataset)
    labels = [y.tolist() for _, y in ffnn_data.DataLoader(chained, batch_size=2)]
    assert labels == [[0, 1], [2, 100 % 3], [101 % 3]]
    assert len(ffnn_data.DataLoader(Sized(), batch_size=3)) == 3
    assert len(ffnn_data.DataLoader(Sized(), batch_size=3, drop_last=True)) == 2
    with pytest.raises(TypeError, match="has no len"):
        len(ffnn_data.DataLoader(_stream(ffnn_data, 3)))
    assert ffnn_data.get_worker_info() is None
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        ffnn_data.ChainDataset([_stream(ffnn_data, 1), [1, 2]])


@pytest.mark.parametrize("option", [{"shuffle": True}, {"sampler": [0, 1]},
                                    {"batch_sampler": [[0, 1]]}])
def test_options_a_stream_cannot_take_are_refused(option):
    name = next(iter(option))
    with pytest.raises(ValueError, match=f"expected unspecified {name} option"):
        ffnn_data.DataLoader(_stream(ffnn_data, 3), **option)


def test_a_model_trains_on_a_stream():
    class Thirds(ffnn_data.IterableDataset):  # the label: which third of the range x is in
        def __iter__(self):
            for i in np.random.default_rng(0).permutation(30):
                yield np.float32([i / 30, 1 - i / 30, 0.5]), i // 10

    ffnn.manual_seed(0)
    model = ffnn.nn.Sequential(ffnn.nn.Linear(3, 8), ffnn.nn.ReLU(), ffnn.nn.Linear(8, 3))
    optimizer = ffnn.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        total = 0.0
        for x, y in ffnn_data.DataLoader(Thirds(), batch_size=10):
            optimizer.zero_grad()
            loss = ffnn.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total)
    assert losses[-1] < 0.5 * losses[0]
