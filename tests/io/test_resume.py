"""Exact resume: 10 epochs in one run == 4 epochs + resume for 6, bit for bit (shuffling,
dropout, augmentation, BatchNorm, a scheduler and EarlyStopping all on), also after SIGKILL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _io_training import fit, trainer

import ffnn
from ffnn.io import restore_training_state
from ffnn.train import ModelCheckpoint

HERE = Path(__file__).resolve().parent


def _assert_same_run(a, b):
    for (name, x), y in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert np.array_equal(x, y), name
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    for index, values in sa["state"].items():
        for key, value in values.items():
            assert np.array_equal(value, sb["state"][index][key]), (index, key)
    assert sa["param_groups"] == sb["param_groups"]
    assert a.scheduler.state_dict() == b.scheduler.state_dict()
    stop_a = [c for c in a.callbacks if type(c).__name__ == "EarlyStopping"][0]
    stop_b = [c for c in b.callbacks if type(c).__name__ == "EarlyStopping"][0]
    assert (stop_a.wait, stop_a.best, stop_a.best_epoch) == \
        (stop_b.wait, stop_b.best, stop_b.best_epoch)
    assert a.history.history == b.history.history and a.history.epoch == b.history.epoch
    assert (a.epoch, a.global_step) == (b.epoch, b.global_step)


def test_resume_equals_uninterrupted_run(tmp_path):
    full = trainer()
    fit(full, 10)
    first = trainer(tmp_path / "run")
    fit(first, 4)
    assert sorted(os.listdir(tmp_path / "run")) == ["epoch0003.safetensors",
                                                    "epoch0004.safetensors", "last.safetensors"]
    resumed = trainer(tmp_path / "run", init_seed=99)  # different initial weights: overwritten
    fit(resumed, 10, resume_from=tmp_path / "run" / "last.safetensors")
    assert resumed.callbacks[1].wait == full.callbacks[0].wait
    _assert_same_run(full, resumed)


def test_sigkill_mid_epoch_then_resume(tmp_path):
    folder = tmp_path / "killed"
    last = folder / "last.safetensors"
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1])}
    parked = tmp_path / "parked"
    proc = subprocess.Popen([sys.executable, str(HERE / "_io_training.py"), str(folder), "12",
                             str(parked)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not parked.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert parked.exists(), "the training never reached its third epoch"
    finally:
        proc.kill()
        proc.wait()
    checkpoint = ffnn.load(last)
    assert checkpoint.metadata["epoch"] == 2  # killed in the middle of epoch 3
    resumed = trainer(folder, init_seed=5)
    fit(resumed, 12, resume_from=last)
    full = trainer()
    fit(full, 12)
    _assert_same_run(full, resumed)


def test_model_checkpoint_best_every_n_and_keep_last(tmp_path):
    t = trainer()
    callback = ModelCheckpoint(tmp_path, save_best=True, monitor="val_accuracy",
                               every_n_epochs=2, keep_last=2)
    t.callbacks.insert(0, callback)
    fit(t, 7)
    assert sorted(os.listdir(tmp_path)) == ["best.safetensors", "epoch0004.safetensors",
                                            "epoch0006.safetensors", "last.safetensors"]
    accuracy = t.history.history["val_accuracy"]
    best = ffnn.load(tmp_path / "best.safetensors")
    assert best.metadata["epoch"] == int(np.argmax(accuracy)) + 1  # first epoch of the max
    assert best.metadata["logs"]["val_accuracy"] == max(accuracy) == callback.best
    assert ffnn.load(tmp_path / "last.safetensors").metadata["epoch"] == 7  # final epoch saved
    epoch6 = ffnn.load(tmp_path / "epoch0006.safetensors")
    assert epoch6.training_state["epoch"] == 6
    assert len(epoch6.training_state["history"]["epoch"]) == 6


def test_model_checkpoint_rejects_bad_options(tmp_path):
    with pytest.raises(ValueError, match="every_n_epochs must be an integer >= 1. Received: "
                                         "every_n_epochs=0"):
        ModelCheckpoint(tmp_path, every_n_epochs=0)
    with pytest.raises(ValueError, match="keep_last must be an integer >= 0. Received: "
                                         "keep_last=-1"):
        ModelCheckpoint(tmp_path, keep_last=-1)
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'. Received: "
                                         "mode='up'"):
        ModelCheckpoint(tmp_path, mode="up")
    with pytest.raises(ValueError, match="nothing to save"):
        ModelCheckpoint(tmp_path, save_last=False)


def test_resume_needs_training_state_and_matching_callbacks(tmp_path):
    t = trainer()
    ffnn.save(tmp_path / "plain.safetensors", t.model, t.optimizer)
    with pytest.raises(ffnn.CheckpointError, match="no training state"):
        restore_training_state(t, tmp_path / "plain.safetensors")
    fit(trainer(tmp_path / "run"), 2)
    other = trainer()
    other.callbacks = [c for c in other.callbacks if type(c).__name__ != "EarlyStopping"]
    from ffnn.train import CSVLogger

    other.callbacks.append(CSVLogger(tmp_path / "log.csv"))
    with pytest.raises(ffnn.CheckpointError, match="no saved state for callback CSVLogger"):
        restore_training_state(other, tmp_path / "run" / "last.safetensors")
