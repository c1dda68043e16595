"""Where data-parallel training differs from training in one process: a strategy object.

The :class:`~ffnn.train.Trainer` calls its strategy at each of these points and nowhere else
asks how it is being run (PyTorch Lightning's strategies, Keras's distribution API).
:class:`LocalStrategy` is one process: every hook hands its input back unchanged.
``ffnn.distributed.DataParallelStrategy`` is the same loop over MPI ranks.
"""

from __future__ import annotations

import math
from collections.abc import Callable


class Strategy:
    """The hooks the Trainer calls; this base class is the single-process behaviour.

    * ``setup(trainer)``: once, when the Trainer is built (e.g. the same weights everywhere);
    * ``train_loader(trainer, loader)``: the training loader to iterate (e.g. sharded);
    * ``callbacks(callbacks)``: the callbacks that run in this process;
    * ``start_epoch(trainer, loader, epoch)``: after the epoch's seeds are set;
    * ``clipper(trainer, clip)``: the gradient clipping function to use;
    * ``combine_gradients(trainer, rows)``: after backward, before clipping and the step;
    * ``batch_loss(value, rows)``: the (loss, rows) the batch callbacks see;
    * ``end_epoch(trainer)``: after the epoch's last step;
    * ``reduce_epoch(loss_sum, count, outputs, targets)``: the epoch's mean loss and the
      outputs / targets its metrics are computed on.
    """

    def setup(self, trainer) -> None:
        """Nothing to share in one process."""

    def train_loader(self, trainer, loader):
        return loader

    def callbacks(self, callbacks: list) -> list:
        return list(callbacks)

    def start_epoch(self, trainer, loader, epoch: int) -> None:
        """Nothing beyond the Trainer's own epoch seeds."""

    def clipper(self, trainer, clip: Callable | None) -> Callable | None:
        return clip

    def combine_gradients(self, trainer, rows: int) -> None:
        """The gradients are already the batch's."""

    def batch_loss(self, value: float, rows: int) -> tuple[float, int]:
        return value, rows

    def end_epoch(self, trainer) -> None:
        """Nothing to gather."""

    def reduce_epoch(self, loss_sum: float, count: int, outputs: list,
                     targets: list) -> tuple[float, list, list]:
        """Mean loss ``Σ loss·rows / Σ rows`` (NaN for no rows), outputs and targets as given."""
        return (loss_sum / count if count else math.nan), outputs, targets


class LocalStrategy(Strategy):
    """Training in this process only (the default)."""


def get_strategy(strategy: Strategy | None, distributed: bool) -> Strategy:
    """``strategy`` itself, else ``DataParallelStrategy()`` for ``distributed=True``, else
    ``LocalStrategy()``. Raises TypeError for anything that is not a :class:`Strategy`."""
    if strategy is not None:
        if not isinstance(strategy, Strategy):
            raise TypeError(f"Trainer: strategy must be an ffnn.train.Strategy (LocalStrategy, "
                            f"ffnn.distributed.DataParallelStrategy). Received: strategy of "
                            f"type {type(strategy).__name__}")
        if distributed:
            raise ValueError(f"Trainer: pass either strategy or distributed=True, not both. "
                             f"Received: strategy={type(strategy).__name__}, distributed=True")
        return strategy
    if distributed:
        from ffnn.distributed.strategy import DataParallelStrategy

        return DataParallelStrategy()
    return LocalStrategy()
