"""Callbacks that write declare ``main_process_only``; data-parallel ranks other than 0 drop
them by that declaration, so a subclass keeps the behaviour of its parent."""

from __future__ import annotations

from ffnn.distributed import strategy
from ffnn.train import CSVLogger, EarlyStopping, ModelCheckpoint, ProgressBar
from ffnn.train.progress import EpochPrinter


class MyLogger(CSVLogger):
    pass


def test_other_ranks_drop_the_callbacks_that_write(monkeypatch, tmp_path):
    writers = [ProgressBar(), EpochPrinter(), CSVLogger(tmp_path / "m.csv"),
               ModelCheckpoint(tmp_path), MyLogger(tmp_path / "n.csv")]
    stopper = EarlyStopping()
    callbacks = [*writers, stopper]
    parallel = strategy.DataParallelStrategy()
    monkeypatch.setattr(strategy._mpi, "rank", lambda: 1)
    assert parallel.callbacks(callbacks) == [stopper]
    monkeypatch.setattr(strategy._mpi, "rank", lambda: 0)
    assert parallel.callbacks(callbacks) == callbacks
