"""Callbacks: EarlyStopping (Keras 3's rules), TerminateOnNaN, CSVLogger, LearningRateMonitor,
ProgressBar; each driven through the Trainer or with hand-made logs."""

from __future__ import annotations

import csv
import io
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn, optim
from ffnn.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateMonitor,
    ProgressBar,
    TerminateOnNaN,
    Trainer,
)
from tests.train.conftest import make_model, make_trainer


def drive(callback, values, monitor="val_loss", model=None):
    """Feed ``values`` as per-epoch logs; returns (epochs run, fake trainer)."""
    trainer = SimpleNamespace(stop_training=False, model=model)
    callback.set_trainer(trainer)
    callback.on_train_begin({})
    ran = 0
    for epoch, value in enumerate(values):
        if model is not None:
            for p in model.parameters():
                p.data[...] = epoch  # weights remember their epoch
        callback.on_epoch_end(epoch, {monitor: value})
        ran += 1
        if trainer.stop_training:
            break
    callback.on_train_end({})
    return ran, trainer


def test_early_stopping_patience():
    # best at epoch 1; epochs 2, 3 do not improve; patience 2 stops at epoch 3
    stopper = EarlyStopping(patience=2)
    ran, _ = drive(stopper, [1.0, 0.5, 0.6, 0.7, 0.1, 0.1])
    assert ran == 4 and stopper.stopped_epoch == 3
    assert stopper.best == 0.5 and stopper.best_epoch == 1


def test_early_stopping_min_delta_and_mode_max():
    # improvements of 0.005 < min_delta do not count
    stopper = EarlyStopping(monitor="val_accuracy", min_delta=0.01, patience=1)
    ran, _ = drive(stopper, [0.90, 0.905, 0.91, 0.99], monitor="val_accuracy")
    assert ran == 2 and stopper.best == 0.90
    stopper = EarlyStopping(monitor="score", mode="max", patience=1)
    ran, _ = drive(stopper, [0.1, 0.2, 0.3, 0.2, 0.25], monitor="score")
    assert ran == 4 and stopper.best == 0.3


def test_early_stopping_baseline():
    # the wait counter restarts only once the value beats the baseline
    values = [0.9, 0.8, 0.8, 0.8, 0.8]
    ran, _ = drive(EarlyStopping(patience=2), values)
    assert ran == 4
    stopper = EarlyStopping(patience=2, baseline=0.5)  # epochs 0 and 1 count as waiting
    ran, _ = drive(stopper, values)
    assert ran == 3 and stopper.stopped_epoch == 2
    stopper = EarlyStopping(patience=2, baseline=0.85)
    ran, _ = drive(stopper, [0.9, 0.8, 0.7, 0.6, 0.6, 0.6])
    assert ran == 6 and stopper.stopped_epoch == 5


def test_early_stopping_start_from_epoch():
    stopper = EarlyStopping(patience=0, start_from_epoch=3)
    ran, _ = drive(stopper, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert ran == 5 and stopper.best == 4.0 and stopper.best_epoch == 3


def test_early_stopping_restores_best_weights():
    model = make_model()
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    drive(stopper, [1.0, 0.2, 0.5, 0.6], model=model)
    assert all(np.all(p.data == 1) for p in model.parameters())  # epoch 1's weights


def test_early_stopping_resets_on_train_begin_and_keeps_a_loaded_state():
    stopper = EarlyStopping(patience=1)
    drive(stopper, [1.0, 2.0, 3.0])
    assert stopper.stopped_epoch == 1
    ran, _ = drive(stopper, [5.0, 4.0, 3.0])  # reused: starts afresh
    assert ran == 3 and stopper.best == 3.0 and stopper.stopped_epoch == 0
    state = {"wait": 1, "best": 0.1, "best_epoch": 7, "stopped_epoch": 0, "best_weights": None}
    stopper.load_state_dict(state)
    ran, _ = drive(stopper, [0.5])  # resumed: one more bad epoch exceeds patience
    assert ran == 1 and stopper.best == 0.1 and stopper.stopped_epoch == 0
    assert stopper.state_dict()["wait"] == 2


def test_early_stopping_in_fit(blobs):
    X, y = blobs
    # lr 0: the weights never change, so the epoch loss moves only by float32 round-off of
    # its sum over shuffled batches (~1e-7); min_delta tells that from an improvement
    trainer = make_trainer(lr=0.0, callbacks=[EarlyStopping(monitor="loss", patience=2,
                                                            min_delta=1e-5)])
    history = trainer.fit((X, y), epochs=20, verbose=0)
    assert history.epoch == [0, 1, 2]


def test_early_stopping_bad_arguments():
    with pytest.raises(ValueError, match="Received: mode='best'"):
        EarlyStopping(mode="best")
    with pytest.raises(ValueError, match="Received: patience=-1"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="Received: start_from_epoch=1.5"):
        EarlyStopping(start_from_epoch=1.5)
    with pytest.raises(ValueError, match="cannot tell whether monitor='foo'"):
        drive(EarlyStopping(monitor="foo"), [1.0, 2.0], monitor="foo")


class Recorder(Callback):
    """Weights at each batch begin and the loss at each batch end."""

    def __init__(self):
        self.weights, self.losses = [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.weights.append([p.numpy().copy() for p in self.model.parameters()])

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


def test_terminate_on_nan_restores_last_finite_weights():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X @ rng.normal(size=4) * 1e3).astype(np.float32)
    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1))
    recorder = Recorder()
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5),
                      callbacks=[recorder])
    with np.errstate(all="ignore"), \
            pytest.warns(RuntimeWarning, match=r"loss became (nan|inf) at epoch \d+, batch \d+"):
        history = trainer.fit((X, y), epochs=50, batch_size=16, verbose=0)
    nan_callback = trainer.callbacks[-1]
    assert isinstance(nan_callback, TerminateOnNaN)
    steps = len(recorder.losses)
    assert steps < 50 * 4 and not math.isfinite(recorder.losses[-1])
    assert all(math.isfinite(v) for v in recorder.losses[:-1])
    assert nan_callback.stopped_epoch * 4 + nan_callback.stopped_batch == steps - 1
    assert len(history.epoch) == nan_callback.stopped_epoch + 1
    for param, saved in zip(model.parameters(), recorder.weights[-2]):
        np.testing.assert_array_equal(param.data, saved)


def test_csv_logger(blobs, tmp_path):
    X, y = blobs
    path = tmp_path / "log.csv"
    trainer = make_trainer(metrics=["accuracy"], callbacks=[CSVLogger(path)])
    history = trainer.fit((X, y), validation_split=0.25, epochs=3, verbose=0)
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["epoch", "accuracy", "loss", "lr", "time", "val_accuracy", "val_loss"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    for key in ("loss", "val_accuracy"):
        column = [float(r[rows[0].index(key)]) for r in rows[1:]]
        assert column == history[key]
    trainer.callbacks[0].append = True
    trainer.fit((X, y), validation_split=0.25, epochs=2, verbose=0)
    assert len(list(csv.reader(io.StringIO(path.read_text())))) == 1 + 3 + 2


def test_learning_rate_monitor_with_step_lr(blobs):
    X, y = blobs
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    monitor = LearningRateMonitor()
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=[monitor],
                      scheduler=optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5))
    history = trainer.fit((X, y), epochs=5, batch_size=40, verbose=0)
    expected = [0.1, 0.1, 0.05, 0.05, 0.025]
    np.testing.assert_allclose(monitor.lrs["lr"], expected)
    np.testing.assert_allclose(history["lr"], expected)


def test_one_cycle_per_batch_matches_torch(blobs):
    X, y = blobs
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=12)
    monitor = LearningRateMonitor(logging_interval="step")
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, callbacks=[monitor], scheduler=sched,
                      scheduler_interval="batch")
    trainer.fit((X, y), epochs=4, batch_size=40, verbose=0)
    p = torch.nn.Parameter(torch.zeros(1))
    t_opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    t_sched = torch.optim.lr_scheduler.OneCycleLR(t_opt, max_lr=0.5, total_steps=12)
    expected = []
    for _ in range(12):
        expected.append(t_opt.param_groups[0]["lr"])
        t_opt.step()
        t_sched.step()
    np.testing.assert_allclose(monitor.lrs["lr"], expected, rtol=1e-12)


def test_reduce_lr_on_plateau_gets_the_monitored_value(blobs):
    X, y = blobs
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    plateau = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)

    def flat(y_true, y_pred):
        return 1.0

    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, metrics=[flat], scheduler=plateau,
                      scheduler_monitor="flat")
    history = trainer.fit((X, y), epochs=4, verbose=0)
    np.testing.assert_allclose(history["lr"], [0.1, 0.1, 0.05, 0.025])


def test_progress_bar_is_quiet_off_a_terminal_and_draws_when_forced(blobs):
    X, y = blobs
    quiet, forced = io.StringIO(), io.StringIO()
    make_trainer(callbacks=[ProgressBar(file=quiet)]).fit((X, y), epochs=2, verbose=0)
    assert quiet.getvalue() == ""
    make_trainer(callbacks=[ProgressBar(force=True, file=forced)]).fit((X, y), epochs=2,
                                                                        verbose=0)
    text = forced.getvalue()
    assert "epochs" in text and "2/2" in text and "loss=" in text


def test_verbose_2_prints_one_line_per_epoch(blobs, capsys):
    X, y = blobs
    make_trainer(metrics=["accuracy"]).fit((X, y), epochs=3, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[2].startswith("Epoch 3/3 - loss: ")
    assert "accuracy: " in lines[0]
