"""``ProgressBar``: tqdm bars over epochs and over each epoch's batches (running loss shown).

Quiet when stderr is not a terminal (logs, CI, pytest) unless ``force=True``. tqdm is
imported when training starts, with a clear error if it is missing.
"""

from __future__ import annotations

import sys

from ffnn.train.callbacks import Callback


def _format(logs: dict) -> dict[str, str]:
    return {k: f"{v:.4g}" for k, v in logs.items() if k not in ("time", "size")}


class ProgressBar(Callback):
    """An outer bar over epochs (postfix: the last epoch's logs) and an inner bar over the
    current epoch's batches (postfix: the running mean loss). ``file`` defaults to stderr."""

    main_process_only = True

    def __init__(self, force: bool = False, file=None, leave_batches: bool = False):
        self.force, self.file, self.leave_batches = force, file, leave_batches
        self._epochs = self._batches = None
        self._loss_sum = 0.0
        self._count = 0

    @property
    def enabled(self) -> bool:
        stream = self.file or sys.stderr
        return self.force or bool(getattr(stream, "isatty", lambda: False)())

    def _tqdm(self):
        try:
            from tqdm.auto import tqdm
        except ImportError as err:
            raise ImportError("ProgressBar needs tqdm: pip install ffnn[all] "
                              "(or pass verbose=0 / verbose=2 to fit)") from err
        return tqdm

    def on_train_begin(self, logs=None):
        self._epochs = None
        if self.enabled:
            params = self.trainer.params
            self._epochs = self._tqdm()(total=params["epochs"], initial=params["initial_epoch"],
                                        desc="epochs", unit="epoch", file=self.file,
                                        dynamic_ncols=True)

    def on_epoch_begin(self, epoch, logs=None):
        self._loss_sum, self._count = 0.0, 0
        if self._epochs is not None:
            self._batches = self._tqdm()(total=self.trainer.params.get("steps"),
                                         desc=f"epoch {epoch + 1}", unit="batch",
                                         leave=self.leave_batches, file=self.file,
                                         dynamic_ncols=True)

    def on_train_batch_end(self, batch, logs=None):
        if self._batches is None:
            return
        logs = logs or {}
        size = logs.get("size", 1)
        self._loss_sum += logs.get("loss", float("nan")) * size
        self._count += size
        self._batches.update(1)
        self._batches.set_postfix(loss=f"{self._loss_sum / max(self._count, 1):.4g}",
                                  refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._batches is not None:
            self._batches.close()
            self._batches = None
        if self._epochs is not None:
            self._epochs.update(1)
            self._epochs.set_postfix(_format(logs or {}))

    def on_train_end(self, logs=None):
        if self._batches is not None:
            self._batches.close()
            self._batches = None
        if self._epochs is not None:
            self._epochs.close()
            self._epochs = None


class EpochPrinter(Callback):
    """One line per epoch (``fit(verbose=2)``): 'Epoch 3/20 - loss: 0.12 - val_loss: ...'."""

    main_process_only = True

    def __init__(self, file=None):
        self.file = file

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        parts = [f"{k}: {v:.4g}" for k, v in logs.items() if k != "time"]
        parts.append(f"{logs.get('time', 0.0):.2f}s")
        print(f"Epoch {epoch + 1}/{self.trainer.params['epochs']} - " + " - ".join(parts),
              file=self.file or sys.stdout, flush=True)
