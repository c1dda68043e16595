"""``DistributedSampler``: each rank's disjoint share of every global batch.

The global order of epoch e is the same on every rank:
``order = numpy.random.default_rng([seed, epoch]).permutation(N)`` (``arange(N)`` without
shuffling) — or, given ``generator`` (an ``ffnn.Generator`` seeded alike on every rank),
``generator.rng.permutation(N)``: exactly the order a single-process ``DataLoader`` draws
from that generator, which is how ``Trainer(distributed=True)`` reproduces a one-process run.
Global batch k is ``order[k·B:(k+1)·B]`` — what one process with batch size
B would take. Rank r of R takes every R-th sample of it, ``batch[r::R]``, so a full batch
gives each rank B/R samples (B must be divisible by R).

The last batch (b = N mod B samples, when ``drop_last`` is False) is split the same way:
rank r gets ⌈(b − r)/R⌉ samples, sizes differing by at most one. Gradients combined with
``allreduce_gradients(model, weight=rows)`` (each rank's row count) are then exactly those of
the b-sample batch in one process. When 0 < b < R some rank would get no sample at all; that
batch is dropped on every rank (a RuntimeWarning says so).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterator

import numpy as np

from ffnn.distributed import _mpi


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"DistributedSampler: {name} must be an integer >= {low}. Received: "
                         f"{name}={value!r}")
    return int(value)


class DistributedSampler:
    """Indices of this rank's shard of every global batch of ``batch_size`` (see module doc).

    Use with ``DataLoader(dataset, batch_size=sampler.local_batch_size, sampler=sampler)`` and
    call ``sampler.set_epoch(epoch)`` (or ``loader.set_epoch``) before each epoch.
    ``seed=None``: one integer drawn from ffnn's global generator, rank 0's value used.
    ``num_replicas``/``rank`` default to the MPI world.
    """

    def __init__(self, dataset, batch_size: int, *, num_replicas: int | None = None,
                 rank: int | None = None, shuffle: bool = True, seed: int | None = 0,
                 drop_last: bool = False, generator=None):
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DistributedSampler: dataset must define __len__. Received: "
                            f"dataset of type {type(dataset).__name__}")
        self.num_samples_total = len(dataset)
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.num_replicas = _check_int(
            "num_replicas", _mpi.world_size() if num_replicas is None else num_replicas, 1)
        self.rank = _check_int("rank", _mpi.rank() if rank is None else rank, 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in [0, {self.num_replicas - 1}] "
                             f"(num_replicas={self.num_replicas}). Received: rank={rank!r}")
        if self.batch_size % self.num_replicas:
            raise ValueError(
                f"DistributedSampler: batch_size (the global batch) must be divisible by the "
                f"number of ranks {self.num_replicas}, so that every full batch splits evenly. "
                f"Received: batch_size={batch_size!r}")
        if seed is None:
            seed = self._shared_seed(num_replicas is None)
        self.seed = _check_int("seed", seed, 0)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.generator = generator
        self.epoch = 0
        full, tail = divmod(self.num_samples_total, self.batch_size)
        self.keep_tail = tail > 0 and not self.drop_last and tail >= self.num_replicas
        self.num_batches = full + int(self.keep_tail)
        self.num_used = full * self.batch_size + (tail if self.keep_tail else 0)
        if tail and not self.drop_last and not self.keep_tail:
            warnings.warn(
                f"DistributedSampler: the last batch has {tail} samples, fewer than the "
                f"{self.num_replicas} ranks, so some rank would get none; it is dropped on "
                f"every rank (N={self.num_samples_total}, batch_size={self.batch_size}).",
                RuntimeWarning, stacklevel=2)

    @staticmethod
    def _shared_seed(use_world: bool) -> int:
        from ffnn import random as _random

        drawn = int(_random.rng().integers(2**31 - 1))
        if not use_world:
            return drawn
        from ffnn.distributed.collectives import broadcast_json

        return int(broadcast_json(drawn))

    @property
    def local_batch_size(self) -> int:
        """Rows per rank in a full batch: batch_size / num_replicas."""
        return self.batch_size // self.num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Choose epoch ``epoch``'s order (same on every rank)."""
        self.epoch = _check_int("epoch", epoch, 0)

    def global_order(self) -> np.ndarray:
        """This epoch's order of the used samples (all ranks), int64 of length num_used."""
        n = self.num_samples_total
        if self.shuffle and self.generator is not None:
            order = self.generator.rng.permutation(n)
        elif self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            order = np.arange(n)
        return order[:self.num_used].astype(np.int64, copy=False)

    def indices(self) -> np.ndarray:
        """This rank's indices, batch after batch: ``global_order()[rank::num_replicas]``."""
        return self.global_order()[self.rank::self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        """Number of samples this rank sees per epoch."""
        return len(range(self.rank, self.num_used, self.num_replicas))

    def state_dict(self) -> dict:
        """JSON-able: seed, epoch, batch_size, num_replicas."""
        return {"seed": self.seed, "epoch": self.epoch, "batch_size": self.batch_size,
                "num_replicas": self.num_replicas}

    def load_state_dict(self, state: dict) -> None:
        """Restore seed and epoch; batch_size and num_replicas must match (same rank count)."""
        for key in ("batch_size", "num_replicas"):
            if key in state and int(state[key]) != getattr(self, key):
                raise ValueError(
                    f"DistributedSampler.load_state_dict: the state was saved with {key}="
                    f"{state[key]}, this sampler has {key}={getattr(self, key)}; resume with the "
                    f"same global batch size and number of ranks. Received: {key}={state[key]}")
        self.seed = _check_int("seed", state["seed"], 0)
        self.set_epoch(state["epoch"])

    def __repr__(self) -> str:
        return (f"DistributedSampler(N={self.num_samples_total}, batch_size={self.batch_size}, "
                f"rank={self.rank}/{self.num_replicas}, shuffle={self.shuffle}, "
                f"seed={self.seed}, drop_last={self.drop_last})")
