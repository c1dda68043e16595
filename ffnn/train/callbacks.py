"""Callbacks with Keras's hook names, called by :class:`ffnn.train.Trainer`.

A callback sees ``self.trainer`` (and ``self.model``); setting ``trainer.stop_training = True``
ends ``fit`` after the current batch/epoch. ``logs`` are dicts of floats: per batch
``{'loss', 'size'}`` (the batch's own loss), per epoch ``{'loss', <metrics>, 'val_loss',
'val_<metrics>', 'lr', 'time'}``. Callbacks with state offer ``state_dict()`` /
``load_state_dict()``; a loaded state survives the next ``on_train_begin`` (to resume a run).
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from collections import OrderedDict

import numpy as np

from ffnn.io.atomic import atomic_write_bytes
from ffnn.nn.module import tensor_slots
from ffnn.train.metrics import greater_is_better


def copy_weights(model, into: OrderedDict | None = None) -> OrderedDict:
    """Snapshot of ``model.state_dict()``'s arrays (copies; reuses the arrays of ``into`` if
    given). Called every epoch by ``TerminateOnNaN``, so it reads the tensors' arrays
    directly rather than through detached tensors."""
    arrays = ((key, tensor._data) for key, _, _, tensor, _ in
              tensor_slots(model, persistent_only=True, remove_duplicate=False))
    if into is None:
        return OrderedDict((key, array.copy()) for key, array in arrays)
    for key, array in arrays:
        np.copyto(into[key], array)
    return into


class Callback:
    """Base class: every hook does nothing. Hooks: ``on_train_begin/end(logs)``,
    ``on_epoch_begin/end(epoch, logs)``, ``on_train_batch_begin/end(batch, logs)``,
    ``on_test_begin/end(logs)``, ``on_test_batch_begin/end(batch, logs)``,
    ``on_predict_begin/end(logs)``, ``on_predict_batch_begin/end(batch, logs)``.
    ``main_process_only = True`` (callbacks that write files or print): in data-parallel
    training only rank 0 runs it."""

    trainer = None
    main_process_only = False

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    @property
    def model(self):
        return None if self.trainer is None else self.trainer.model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...


def _NOTHING(*args) -> None:  # noqa: N802 - a hook nobody listens to
    """What a CallbackList calls for a hook no callback implements."""


class CallbackList:
    """Calls one hook on every callback, in order: ``callbacks.on_epoch_end(epoch, logs)``."""

    def __init__(self, callbacks, trainer=None):
        self.callbacks = list(callbacks)
        for i, callback in enumerate(self.callbacks):
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks[{i}] must be an ffnn.train.Callback. Received: "
                                f"{callback!r} ({type(callback).__name__})")
            if trainer is not None:
                callback.set_trainer(trainer)

    def __getattr__(self, hook: str):
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        methods = [getattr(c, hook) for c in self.callbacks
                   if getattr(type(c), hook, None) is not getattr(Callback, hook, None)
                   or hook in vars(c)]
        if len(methods) <= 1:  # the one listener itself: no loop around it
            call = methods[0] if methods else _NOTHING
        else:
            def call(*args):
                for method in methods:
                    method(*args)

        setattr(self, hook, call)  # looked up once per hook (callbacks are fixed per fit)
        return call

    def listens(self, *hooks: str) -> bool:
        """Whether any callback implements one of ``hooks``."""
        return any(getattr(self, hook) is not _NOTHING for hook in hooks)

    def __iter__(self):
        return iter(self.callbacks)


class _Resumable:
    """``load_state_dict`` marks the state as restored so the next ``on_train_begin`` keeps it."""

    _restored = False

    def _take_restored(self) -> bool:
        restored, self._restored = self._restored, False
        return restored


class EarlyStopping(_Resumable, Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs (Keras 3's rules). ``mode``: 'min', 'max' or 'auto' (from the name). ``baseline``:
    the wait counter only restarts once the value beats it. ``restore_best_weights``: load
    the weights of the best epoch when training ends. ``start_from_epoch``: ignore earlier
    epochs. State is reset in ``on_train_begin``."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max'. "
                             f"Received: mode={mode!r}")
        if not isinstance(patience, (int, np.integer)) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an integer >= 0. "
                             f"Received: patience={patience!r}")
        if not isinstance(start_from_epoch, (int, np.integer)) or start_from_epoch < 0:
            raise ValueError(f"EarlyStopping: start_from_epoch must be an integer >= 0. "
                             f"Received: start_from_epoch={start_from_epoch!r}")
        if not math.isfinite(min_delta):
            raise ValueError(f"EarlyStopping: min_delta must be finite. "
                             f"Received: min_delta={min_delta!r}")
        self.monitor, self.min_delta, self.patience = monitor, abs(float(min_delta)), patience
        self.verbose, self.mode, self.baseline = verbose, mode, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best: float | None = None
        self.best_weights: OrderedDict | None = None

    def _maximize(self) -> bool:
        if self.mode != "auto":
            return self.mode == "max"
        direction = greater_is_better(self.monitor)
        if direction is None:
            raise ValueError(f"EarlyStopping cannot tell whether monitor={self.monitor!r} should "
                             "be minimised or maximised; pass mode='min' or mode='max'.")
        return direction

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        """value beats reference by more than min_delta (None: always)."""
        if reference is None:
            return True
        if self._maximize():
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def on_train_begin(self, logs=None):
        if not self._take_restored():
            self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"EarlyStopping: monitor={self.monitor!r} is not in the logs "
                          f"(available: {sorted(logs or {})}); skipping.", stacklevel=2)
            return
        if epoch < self.start_from_epoch or math.isnan(current):
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = copy_weights(self.model), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = float(current), epoch
            if self.restore_best_weights:
                copy_weights(self.model, into=self.best_weights)
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring the weights of the best epoch: {self.best_epoch + 1}")
            self.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict:
        """wait, best, best_epoch, stopped_epoch and ``best_weights`` (arrays, or None)."""
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch,
                "stopped_epoch": self.stopped_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict) -> None:
        missing = {"wait", "best", "best_epoch", "stopped_epoch"} - set(state)
        if missing:
            raise KeyError(f"EarlyStopping.load_state_dict: missing keys {sorted(missing)}. "
                           f"Received: keys {sorted(state)}")
        self.wait, self.best_epoch = int(state["wait"]), int(state["best_epoch"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best = None if state["best"] is None else float(state["best"])
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else OrderedDict(
            (k, np.array(v, copy=True)) for k, v in weights.items())
        self._restored = True


class TerminateOnNaN(Callback):
    """Stop at the first batch whose loss is NaN or ±inf and restore the weights the last
    finite-loss batch started from (``restore='batch'``) or the epoch started from
    ('epoch'); warns naming the epoch and batch (1-based) unless ``warn=False``.
    ``stopped_epoch`` / ``stopped_batch`` / ``loss`` say where and what it was (None: never).

    Costs one copy of the weights per batch ('batch': two buffers, swapped) or per epoch."""

    def __init__(self, restore: str = "batch", warn: bool = True):
        if restore not in ("batch", "epoch"):
            raise ValueError(f"TerminateOnNaN: restore must be 'batch' or 'epoch'. "
                             f"Received: restore={restore!r}")
        self.restore, self.warn = restore, warn
        self.stopped_epoch: int | None = None
        self.stopped_batch: int | None = None
        self.loss: float | None = None
        self._epoch = 0
        self._current: OrderedDict | None = None
        self._good: OrderedDict | None = None

    def on_train_begin(self, logs=None):
        self.stopped_epoch = self.stopped_batch = self.loss = None
        self._good = self.snapshot()
        if self.restore == "batch":
            self._current = self.snapshot()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self.restore == "epoch":
            self.snapshot(into=self._good)

    def on_train_batch_begin(self, batch, logs=None):
        if self.restore == "batch":
            self.snapshot(into=self._current)

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            if self.restore == "batch":
                self._current, self._good = self._good, self._current
            return
        self._stop(batch, loss)
        if self.warn:
            kept = ("the weights of the last batch with a finite loss" if self.restore == "batch"
                    else "the weights the epoch started from")
            warnings.warn(f"TerminateOnNaN: the loss became {loss} at epoch {self._epoch + 1}, "
                          f"batch {batch + 1} (1-based); training stopped and {kept} were "
                          "restored.", RuntimeWarning, stacklevel=2)

    def _stop(self, batch: int | None, loss: float) -> None:
        """Record where (this epoch, ``batch``) and what the loss was, put back the good
        snapshot and stop training."""
        self.stopped_epoch, self.stopped_batch, self.loss = self._epoch, batch, loss
        self.restore_snapshot(self._good)
        self.trainer.stop_training = True

    def snapshot(self, into=None):
        """A copy of the weights (into ``into``'s arrays when given): ``copy_weights``."""
        return copy_weights(self.model, into)

    def restore_snapshot(self, saved) -> None:
        """Put back the weights of :meth:`snapshot`."""
        self.model.load_state_dict(saved)


class CSVLogger(_Resumable, Callback):
    """Write one row per epoch (``epoch`` then the sorted log names) to a CSV file, rewritten
    atomically after each epoch. ``append``: keep the rows already in the file."""

    main_process_only = True

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        if len(separator) != 1:
            raise ValueError(f"CSVLogger: separator must be one character. "
                             f"Received: separator={separator!r}")
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None
        self.rows: list[list] = []

    def on_train_begin(self, logs=None):
        if self._take_restored():
            return
        self.keys, self.rows = None, []
        if self.append and os.path.isfile(self.filename):
            with open(self.filename, newline="") as f:
                table = list(csv.reader(f, delimiter=self.separator))
            if table:
                self.keys, self.rows = table[0][1:], table[1:]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        self.rows.append([epoch] + [logs.get(k, "NA") for k in self.keys])
        text = io.StringIO()
        writer = csv.writer(text, delimiter=self.separator, lineterminator="\n")
        writer.writerow(["epoch", *self.keys])
        writer.writerows(self.rows)
        atomic_write_bytes(self.filename, text.getvalue().encode())

    def state_dict(self) -> dict:
        return {"keys": self.keys, "rows": [list(map(str, r)) for r in self.rows]}

    def load_state_dict(self, state: dict) -> None:
        self.keys, self.rows = state["keys"], [list(r) for r in state["rows"]]
        self._restored = True


class LearningRateMonitor(_Resumable, Callback):
    """Record each parameter group's learning rate per epoch (``logging_interval='epoch'``,
    the rate used during the epoch) or per optimizer step ('step'), in ``self.lrs`` (name ->
    list). Names: 'lr' for one group, 'lr/pg0', 'lr/pg1', ... for several. Per-epoch values
    also go into the epoch logs (and so into CSVLogger)."""

    def __init__(self, logging_interval: str = "epoch"):
        if logging_interval not in ("epoch", "step"):
            raise ValueError(f"LearningRateMonitor: logging_interval must be 'epoch' or 'step'. "
                             f"Received: logging_interval={logging_interval!r}")
        self.logging_interval = logging_interval
        self.lrs: dict[str, list[float]] = {}
        self._epoch_lrs: dict[str, float] = {}

    def _current(self) -> dict[str, float]:
        groups = self.trainer.optimizer.param_groups
        if len(groups) == 1:
            return {"lr": float(groups[0]["lr"])}
        return {f"lr/pg{i}": float(g["lr"]) for i, g in enumerate(groups)}

    def _log(self, values: dict[str, float]) -> None:
        for name, value in values.items():
            self.lrs.setdefault(name, []).append(value)

    def on_train_begin(self, logs=None):
        if not self._take_restored():
            self.lrs = {}

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_lrs = self._current()
        if self.logging_interval == "epoch":
            self._log(self._epoch_lrs)

    def on_train_batch_begin(self, batch, logs=None):
        if self.logging_interval == "step":
            self._log(self._current())

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and len(self._epoch_lrs) > 1:
            logs.update(self._epoch_lrs)

    def state_dict(self) -> dict:
        return {"lrs": {k: list(v) for k, v in self.lrs.items()}}

    def load_state_dict(self, state: dict) -> None:
        self.lrs = {k: [float(x) for x in v] for k, v in state["lrs"].items()}
        self._restored = True
