"""``ffnn.distributed``: data-parallel training over MPI (mpi4py), on one host or many.

Every rank holds the whole model and a disjoint shard of every global batch. One step::

    import ffnn.distributed as dist
    dist.broadcast_parameters(model)                  # once: rank 0's initial weights
    sampler = dist.DistributedSampler(train_set, batch_size=256)   # global batch
    loader = DataLoader(train_set, batch_size=sampler.local_batch_size, sampler=sampler)
    for x, y in loader:                               # after sampler.set_epoch(epoch)
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        dist.allreduce_gradients(model, weight=x.shape[0])   # exact global-batch mean
        optimizer.step()                              # (clip between these two if wanted)

``ZeroRedundancyOptimizer(model.parameters(), optim.AdamW, lr=…)`` shards the optimizer
instead: each rank reduces and steps its own part of the parameters (through shared memory
on one host), ``optimizer.reduce_gradients(weight=x.shape[0])`` replacing the allreduce.

Launch with ``mpiexec -n 2 python script.py``; ``Trainer(..., distributed=True)`` (the
Trainer's ``DataParallelStrategy``) does all of this for you. ``mpi4py`` is imported on first
use; without it each function raises an ImportError that says what to install. See
docs/distributed.md.
"""

from ffnn.bench.distributed import bench_distributed
from ffnn.distributed._mpi import (
    barrier,
    init,
    install_abort_handler,
    is_available,
    is_main_process,
    launched_with_mpi,
    rank,
    world_size,
)
from ffnn.distributed.collectives import (
    all_gather_rows,
    all_reduce,
    allreduce_gradients,
    broadcast_arrays,
    broadcast_json,
    broadcast_parameters,
    reduce_metrics,
)
from ffnn.distributed.sampler import DistributedSampler
from ffnn.distributed.zero import ZeroRedundancyOptimizer

__all__ = [
    "rank", "world_size", "is_main_process", "is_available", "launched_with_mpi", "init",
    "barrier", "install_abort_handler", "broadcast_parameters", "broadcast_arrays",
    "broadcast_json", "allreduce_gradients", "all_reduce", "all_gather_rows", "reduce_metrics",
    "DistributedSampler", "ZeroRedundancyOptimizer", "SyncBatchNorm1d", "convert_sync_batchnorm",
    "bench_distributed", "DataParallelStrategy",
]


def __getattr__(name):
    """SyncBatchNorm and the Trainer's strategy lazily (they pull in ffnn.nn, ffnn.train)."""
    if name in {"SyncBatchNorm1d", "convert_sync_batchnorm", "SyncBatchNorm"}:
        from ffnn.distributed import sync_batchnorm

        return getattr(sync_batchnorm, name)
    if name == "DataParallelStrategy":
        from ffnn.distributed.strategy import DataParallelStrategy

        return DataParallelStrategy
    raise AttributeError(f"module 'ffnn.distributed' has no attribute {name!r}")
