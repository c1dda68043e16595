"""DistributedSampler: disjoint shards whose union per batch is one process's batch."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn.data import DataLoader, TensorDataset
from ffnn.distributed import DistributedSampler


def _one_process_batches(n, batch_size, seed, epoch, keep_tail=True):
    order = np.random.default_rng([seed, epoch]).permutation(n)
    used = n if keep_tail else n - n % batch_size
    return [order[i:i + batch_size] for i in range(0, used, batch_size)]


def _loaders(n, batch_size, ranks, **options):
    data = TensorDataset(np.arange(n))
    samplers = [DistributedSampler(data, batch_size, num_replicas=ranks, rank=r, **options)
                for r in range(ranks)]
    return samplers, [DataLoader(data, batch_size=s.local_batch_size, sampler=s)
                      for s in samplers]


@pytest.mark.parametrize("n,batch_size,ranks", [(48, 8, 2), (52, 12, 3), (14, 4, 2), (9, 3, 3)])
def test_every_global_batch_is_split_into_disjoint_shards(n, batch_size, ranks):
    samplers, loaders = _loaders(n, batch_size, ranks, seed=7)
    for epoch in (0, 1):
        for s in samplers:
            s.set_epoch(epoch)
        per_rank = [[b[0].data for b in loader] for loader in loaders]
        assert len({len(batches) for batches in per_rank}) == 1  # same step count everywhere
        expected = _one_process_batches(n, batch_size, 7, epoch)
        assert len(per_rank[0]) == len(expected)
        for k, batch in enumerate(expected):
            shards = [per_rank[r][k] for r in range(ranks)]
            np.testing.assert_array_equal(np.sort(np.concatenate(shards)), np.sort(batch))
            for r in range(ranks):
                np.testing.assert_array_equal(shards[r], batch[r::ranks])


def test_epochs_reshuffle_and_shuffle_false_keeps_order():
    samplers, _ = _loaders(20, 4, 2, seed=3)
    first = samplers[0].indices()
    samplers[0].set_epoch(1)
    assert not np.array_equal(first, samplers[0].indices())
    plain, _ = _loaders(20, 4, 2, shuffle=False)
    np.testing.assert_array_equal(plain[1].indices(), np.arange(1, 20, 2))


def test_last_batch_smaller_than_ranks_is_dropped_with_a_warning():
    with pytest.warns(RuntimeWarning, match="last batch has 2 samples, fewer than the 3 ranks"):
        samplers, loaders = _loaders(50, 12, 3, seed=1)
    assert [len(s) for s in samplers] == [16, 16, 16]
    assert [len(loader) for loader in loaders] == [4, 4, 4]
    assert samplers[0].num_batches == 4


def test_drop_last_drops_the_short_batch():
    samplers, loaders = _loaders(52, 12, 3, drop_last=True)
    assert [len(s) for s in samplers] == [16, 16, 16]
    kept, _ = _loaders(52, 12, 3)
    assert [len(s) for s in kept] == [18, 17, 17]


def test_one_rank_equals_plain_batches():
    samplers, loaders = _loaders(10, 4, 1, seed=2)
    batches = [b[0].data for b in loaders[0]]
    for got, expected in zip(batches, _one_process_batches(10, 4, 2, 0)):
        np.testing.assert_array_equal(got, expected)


def test_state_dict_round_trip_and_mismatch():
    samplers, _ = _loaders(20, 4, 2, seed=9)
    samplers[0].set_epoch(5)
    state = samplers[0].state_dict()
    other, _ = _loaders(20, 4, 2, seed=1)
    other[0].load_state_dict(state)
    np.testing.assert_array_equal(other[0].indices(), samplers[0].indices())
    three, _ = _loaders(24, 6, 3)
    state = dict(state, batch_size=6)
    with pytest.raises(ValueError, match="saved with num_replicas=2.*Received: num_replicas=2"):
        three[0].load_state_dict(state)


def test_seed_none_draws_from_the_global_generator():
    import ffnn

    ffnn.manual_seed(4)
    a = DistributedSampler(range(10), 2, num_replicas=2, rank=0, seed=None)
    ffnn.manual_seed(4)
    b = DistributedSampler(range(10), 2, num_replicas=2, rank=1, seed=None)
    assert a.seed == b.seed


@pytest.mark.parametrize("kwargs,message", [
    ({"batch_size": 10, "num_replicas": 3, "rank": 0},
     "batch_size .* must be divisible by the number of ranks 3.*Received: batch_size=10"),
    ({"batch_size": 0, "num_replicas": 1, "rank": 0},
     "batch_size must be an integer >= 1. Received: batch_size=0"),
    ({"batch_size": 4, "num_replicas": 2, "rank": 2},
     r"rank must be in \[0, 1\] \(num_replicas=2\). Received: rank=2"),
    ({"batch_size": 4, "num_replicas": 0, "rank": 0},
     "num_replicas must be an integer >= 1. Received: num_replicas=0"),
    ({"batch_size": 4, "num_replicas": 2, "rank": 0, "seed": -1},
     "seed must be an integer >= 0. Received: seed=-1"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DistributedSampler(range(20), **kwargs)


def test_dataset_without_len():
    with pytest.raises(TypeError, match="dataset must define __len__. Received: dataset of type"):
        DistributedSampler(iter([1, 2]), 2, num_replicas=1, rank=0)
