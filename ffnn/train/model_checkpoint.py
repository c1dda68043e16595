"""``ModelCheckpoint``: a Trainer callback writing ``last``, ``best`` and per-epoch checkpoints.

Every file is a full ``ffnn.save`` checkpoint with the training state, so any of them can be
passed to ``Trainer.fit(..., resume_from=path)``. An epoch's checkpoint is written once every
callback has seen that epoch (at the next ``on_epoch_begin`` or at ``on_train_end``), so the
saved state of callbacks listed after this one (EarlyStopping …) is complete.
"""

from __future__ import annotations

import math
import os

from ffnn.io.checkpoint import save
from ffnn.io.resume import training_state
from ffnn.train.callbacks import Callback
from ffnn.train.metrics import greater_is_better


class ModelCheckpoint(Callback):
    """``ModelCheckpoint(dirpath, save_last=True, save_best=False, monitor='val_loss',
    mode='auto', every_n_epochs=1, keep_last=0, scaler=None, metadata=None, verbose=0)``.

    ``last.safetensors``: every ``every_n_epochs`` epochs and at the end of training;
    ``best.safetensors``: whenever ``monitor`` improves; ``epoch{N:04d}.safetensors``: every
    ``every_n_epochs`` epochs, only the ``keep_last`` newest kept (0: none). ``N`` counts
    completed epochs. Raises ValueError for invalid options.
    """

    main_process_only = True

    def __init__(self, dirpath: str | os.PathLike, save_last: bool = True,
                 save_best: bool = False, monitor: str = "val_loss", mode: str = "auto",
                 every_n_epochs: int = 1, keep_last: int = 0, scaler=None,
                 metadata: dict | None = None, verbose: int = 0):
        for name, value, low in (("every_n_epochs", every_n_epochs, 1),
                                 ("keep_last", keep_last, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"ModelCheckpoint: {name} must be an integer >= {low}. "
                                 f"Received: {name}={value!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"ModelCheckpoint: mode must be 'auto', 'min' or 'max'. "
                             f"Received: mode={mode!r}")
        if not (save_last or save_best or keep_last):
            raise ValueError("ModelCheckpoint: nothing to save; set save_last, save_best or "
                             "keep_last. Received: save_last=False, save_best=False, keep_last=0")
        self.dirpath = os.fspath(dirpath)
        self.save_last, self.save_best = save_last, save_best
        self.monitor, self.mode = monitor, mode
        self.every_n_epochs, self.keep_last = every_n_epochs, keep_last
        self.scaler, self.metadata, self.verbose = scaler, dict(metadata or {}), verbose
        self.best: float | None = None
        self.best_epoch = -1
        self.saved: list[str] = []
        self._pending: tuple | None = None
        self._restored = False

    @property
    def last_path(self) -> str:
        return os.path.join(self.dirpath, "last.safetensors")

    @property
    def best_path(self) -> str:
        return os.path.join(self.dirpath, "best.safetensors")

    # ----- hooks ----------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        os.makedirs(self.dirpath, exist_ok=True)
        if not self._restored:
            self.best, self.best_epoch, self.saved = None, -1, []
        self._restored, self._pending = False, None

    def on_epoch_end(self, epoch, logs=None):
        self._pending = (epoch, dict(logs or {}))

    def on_epoch_begin(self, epoch, logs=None):
        self._flush()

    def on_train_end(self, logs=None):
        self._flush(final=True)

    # ----- saving ---------------------------------------------------------------------
    def _flush(self, final: bool = False) -> None:
        if self._pending is None:
            return
        epoch, logs = self._pending
        self._pending = None
        done = epoch + 1
        periodic = done % self.every_n_epochs == 0
        improved = self.save_best and self._improved(logs.get(self.monitor))
        if improved:
            self.best, self.best_epoch = float(logs[self.monitor]), epoch
        if periodic and self.keep_last:
            path = os.path.join(self.dirpath, f"epoch{done:04d}.safetensors")
            self.saved.append(path)
            self._write(path, done, logs)
            while len(self.saved) > self.keep_last:
                old = self.saved.pop(0)
                if os.path.exists(old):
                    os.remove(old)
        if improved:
            self._write(self.best_path, done, logs)
        if self.save_last and (periodic or final):
            self._write(self.last_path, done, logs)

    def _improved(self, value) -> bool:
        if value is None or math.isnan(value):
            return False
        if self.best is None:
            return True
        maximize = self.mode == "max" or (self.mode == "auto" and
                                          bool(greater_is_better(self.monitor)))
        return value > self.best if maximize else value < self.best

    def _write(self, path: str, done: int, logs: dict) -> None:
        trainer = self.trainer
        metadata = {**self.metadata, "epoch": done, "global_step": trainer.global_step,
                    "logs": {k: float(v) for k, v in logs.items()}}
        save(path, trainer.model, trainer.optimizer, trainer.scheduler, self.scaler, metadata,
             training_state=training_state(trainer, done))
        if self.verbose:
            print(f"Epoch {done}: saved {path}")

    # ----- resume ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "saved": list(self.saved)}

    def load_state_dict(self, state: dict) -> None:
        self.best = None if state["best"] is None else float(state["best"])
        self.best_epoch, self.saved = int(state["best_epoch"]), list(state["saved"])
        self._restored = True
