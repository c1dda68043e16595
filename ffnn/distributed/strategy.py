"""``DataParallelStrategy``: what ``Trainer(..., distributed=True)`` does differently.

* setup: rank 0's weights and seed on every rank (a note when the world has one rank);
* the training loader: rebuilt around a ``DistributedSampler`` whose global batch is the
  loader's ``batch_size`` (validation, evaluate and predict run in full on every rank);
* each epoch: ``sampler.set_epoch``; dropout seeds differ between ranks;
* each step: gradients combined weighted by rows (before clipping), and the batch loss the
  callbacks see is the global batch's, so every rank takes the same decisions; with a
  ``ZeroRedundancyOptimizer`` each rank reduces to, clips and steps its own shard;
* each epoch's end: a sharded optimizer's state gathered on rank 0 (for its checkpoints);
* each epoch's logs: loss weighted by rows over all ranks, metrics on all ranks' outputs;
* only rank 0 runs callbacks that write (``main_process_only``: progress, CSV, checkpoints).
"""

from __future__ import annotations

import numpy as np

from ffnn import random as _random
from ffnn.data import DataLoader
from ffnn.distributed import _mpi
from ffnn.distributed.collectives import (
    all_gather_rows,
    all_reduce,
    allreduce_gradients,
    broadcast_json,
    broadcast_parameters,
    reduce_metrics,
)
from ffnn.distributed.sampler import DistributedSampler
from ffnn.distributed.zero import ZeroRedundancyOptimizer
from ffnn.train.strategy import Strategy


class DataParallelStrategy(Strategy):
    """Data parallelism over the MPI ranks of this run (``mpiexec -n R``): each rank trains
    on its shard of every global batch and the gradients are averaged weighted by rows."""

    def setup(self, trainer) -> None:
        """Rank 0's parameters, buffers and seed on every rank; note a world of one rank."""
        if _mpi.world_size() == 1:
            _mpi.note_single_process("Trainer(distributed=True)")
        broadcast_parameters(trainer.model)
        trainer.seed = int(broadcast_json(trainer.seed))
        trainer.loader_generator.manual_seed(trainer.seed)

    def train_loader(self, trainer, loader):
        """``loader`` sharded over the ranks: its batch_size becomes the global batch."""
        if isinstance(loader._sampler, DistributedSampler):
            return loader
        if loader._sampler is not None:
            raise ValueError(
                f"Trainer(distributed=True): the training DataLoader has a sampler "
                f"({type(loader._sampler).__name__}); use ffnn.distributed.DistributedSampler, "
                f"or pass arrays, a Dataset or a DataLoader without a sampler. Received: "
                f"sampler={loader._sampler!r}")
        sampler = DistributedSampler(loader.dataset, loader.batch_size, shuffle=loader.shuffle,
                                     seed=trainer.seed, drop_last=loader.drop_last,
                                     generator=trainer.loader_generator)  # the 1-process order
        return DataLoader(loader.dataset, batch_size=sampler.local_batch_size, sampler=sampler,
                          generator=trainer.loader_generator, collate_fn=loader.collate_fn,
                          augment=loader.augment)

    def callbacks(self, callbacks: list) -> list:
        """All callbacks on rank 0; elsewhere those without ``main_process_only``."""
        if _mpi.rank() == 0:
            return list(callbacks)
        return [c for c in callbacks if not getattr(c, "main_process_only", False)]

    def start_epoch(self, trainer, loader, epoch: int) -> None:
        """The sampler's epoch; a per-rank global seed (dropout masks differ between ranks)."""
        loader.set_epoch(epoch)
        seeds = np.random.SeedSequence([trainer.seed, epoch, _mpi.rank()]).generate_state(1)
        _random.manual_seed(int(seeds[0]))

    def clipper(self, trainer, clip):
        """``clip`` (``clip_grad_norm_``), or the sharded optimizer's own, which takes the
        norm over every rank's shard."""
        optimizer = trainer.optimizer
        if clip is None or not isinstance(optimizer, ZeroRedundancyOptimizer):
            return clip
        return lambda params, max_norm: optimizer.clip_grad_norm_(max_norm)

    def combine_gradients(self, trainer, rows: int) -> None:
        """The global batch's gradient, weighted by rows: on every rank (allreduce), or on
        each parameter's owner (a ``ZeroRedundancyOptimizer``)."""
        if isinstance(trainer.optimizer, ZeroRedundancyOptimizer):
            trainer.optimizer.reduce_gradients(weight=rows)
        else:
            allreduce_gradients(trainer.model, weight=rows)

    def batch_loss(self, value: float, rows: int) -> tuple[float, int]:
        """The global batch's mean loss and size, from each rank's mean loss and rows."""
        total = all_reduce(np.array([value * rows, float(rows)]))
        return float(total[0] / total[1]), int(total[1])

    def end_epoch(self, trainer) -> None:
        """A sharded optimizer's state gathered on rank 0, where checkpoints are written."""
        if isinstance(trainer.optimizer, ZeroRedundancyOptimizer) and _mpi.world_size() > 1:
            trainer.optimizer.consolidate_state_dict(to=0)

    def reduce_epoch(self, loss_sum: float, count: int, outputs: list,
                     targets: list) -> tuple[float, list, list]:
        """Epoch loss weighted by rows over all ranks; every rank's outputs and targets."""
        local = loss_sum / count if count else 0.0
        loss = reduce_metrics({"loss": local}, weight=count)["loss"]
        if outputs:
            outputs = [all_gather_rows(np.concatenate(outputs))]
            targets = [all_gather_rows(np.concatenate(targets))]
        return loss, outputs, targets
