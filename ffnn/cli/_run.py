"""A training run and its folder: best/last checkpoints, metrics.csv, curves.png, config.toml,
summary.json. Shared by ``ffnn train``, ``ffnn finetune`` and ``ffnn demo``."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from ffnn.cli import _build, _model_io
from ffnn.cli._common import Printer, main_process
from ffnn.cli._data import Prepared, inverse_y
from ffnn.cli.config import AugmentConfig, TrainConfig
from ffnn.finetune.freeze import count_parameters, trainable_parameters
from ffnn.train.callbacks import Callback

CONFIG, METRICS, CURVES, SUMMARY = "config.toml", "metrics.csv", "curves.png", "summary.json"


@dataclass
class RunResult:
    model: object
    history: object
    test: dict  # metrics on the held-out test rows ({} without a test split)
    summary: dict
    seconds: float


class JSONLines(Callback):
    """One JSON object per epoch on stdout (``--log-format json``): epoch (1-based) and logs."""

    main_process_only = True

    def __init__(self, stream=None):
        self.stream = stream

    def on_epoch_end(self, epoch, logs=None):
        record = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        print(json.dumps(record), file=self.stream or sys.stdout, flush=True)


def write_text(path: str, text: str) -> None:
    from ffnn.io.atomic import atomic_write_bytes

    atomic_write_bytes(path, text.encode("utf-8"))


def _monitor(train: TrainConfig, has_val: bool) -> str:
    monitor = train.monitor
    if not has_val and monitor.startswith("val_"):
        return monitor[4:]
    return monitor


def _callbacks(train: TrainConfig, out: str | None, has_val: bool, printer: Printer,
               meta: dict) -> list:
    from ffnn.train import CSVLogger, EarlyStopping

    callbacks = []
    monitor = _monitor(train, has_val)
    if train.early_stopping or out is None:  # in memory: the best epoch's weights at the end
        callbacks.append(EarlyStopping(monitor=monitor, patience=train.early_stopping or
                                       train.epochs, restore_best_weights=out is None))
    if out is not None:
        from ffnn.train import ModelCheckpoint

        callbacks.append(CSVLogger(os.path.join(out, METRICS), append=False))
        callbacks.append(ModelCheckpoint(out, save_last=True, save_best=True, monitor=monitor,
                                         metadata=meta))
    if printer.json:
        callbacks.append(JSONLines())
    return callbacks


def check_monitor(train: TrainConfig, trainer, has_val: bool) -> None:
    """``train.monitor`` names a logged quantity (a ConfigError with a suggestion if not)."""
    from ffnn.cli.config import ConfigError

    logged = trainer.logged(has_val)
    monitor = _monitor(train, has_val)
    if monitor in logged:
        return
    import difflib

    names = sorted(set(logged) | {"val_" + k for k in logged
                                  if k != "lr" and not k.startswith("val_")})
    close = difflib.get_close_matches(train.monitor, names, n=1, cutoff=0.5)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ConfigError(f"config key 'train.monitor' must name a logged quantity{hint}: one of "
                      f"{names}. Received: train.monitor={train.monitor!r}")


class diverging_quietly:
    """Training without NumPy's raw RuntimeWarnings (overflow in a product once the weights
    diverge): the run's warnings come out as one ``ffnn: warning:`` line each, and a loss that
    became NaN or infinite as a line saying what happened and what to try."""

    def __init__(self, printer: Printer):
        self.printer = printer

    def __enter__(self):
        import warnings

        self._errstate = np.errstate(over="ignore", invalid="ignore", divide="ignore",
                                     under="ignore")
        self._errstate.__enter__()
        self._catcher = warnings.catch_warnings(record=True)
        self._caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        from ffnn.cli._common import warn

        self._catcher.__exit__(*exc)
        self._errstate.__exit__(*exc)
        if exc[0] is not None or not main_process():
            return False
        seen = set()
        for record in self._caught:
            text = " ".join(str(record.message).split())
            if "TerminateOnNaN" in text:
                text = text.replace("TerminateOnNaN: the loss", "training diverged: the loss")
                text += " Try a smaller train.lr or set train.grad_clip."
            if text not in seen:
                seen.add(text)
                warn(text)
        return False


def _verbose(printer: Printer) -> int:
    if printer.quiet or printer.json:
        return 0
    return 1 if sys.stderr.isatty() else 2


def fit(model, data: Prepared, train: TrainConfig, augment: AugmentConfig, seed: int,
        out: str | None, printer: Printer, param_groups=None, resume: bool = False,
        config_text: str | None = None, extra_meta: dict | None = None) -> RunResult:
    """Train ``model`` on ``data``; with ``out``, write the run folder there.

    Everything is built and checked before the first byte is written: a command that fails
    leaves an existing run folder as it was (and resumable)."""
    start = time.perf_counter()
    out = out or None  # "" or None: train in memory, write nothing
    _check_out(out)
    train = _resolve_train(train, data, printer)
    meta = {"preprocessing": data.preprocessing, **(extra_meta or {})}
    trainer = _make_trainer(model, data, train, seed, out, printer, param_groups, meta)
    options = _fit_options(train, augment, data, printer, out, resume)
    _start_folder(out, config_text, resume)
    val = (data.X_val, data.y_val) if data.X_val is not None else None
    with diverging_quietly(printer):  # also the test metrics of diverged weights
        history = trainer.fit((data.X_train, data.y_train), val, **options)
        model = _best_model(model, out)
        test = _test_metrics(model, data)
        seconds = time.perf_counter() - start
        summary = _summary(model, data, history, test, seconds, _monitor(train, val is not None))
        _finish_folder(out, history, summary)
    return RunResult(model, history, test, summary, seconds)


def _check_out(out: str | None) -> None:
    if out is not None and os.path.exists(out) and not os.path.isdir(out):
        raise FileExistsError(f"the run folder {out!r} is a file; give out (--out) a folder")


def _resolve_train(train: TrainConfig, data: Prepared, printer: Printer) -> TrainConfig:
    """``train`` with its automatic epochs / lr (0) filled in, said when they were."""
    auto = not train.epochs or not train.lr
    train = _build.resolve_train(train, data.X_train.shape[0], "tabular" in data.preprocessing)
    if auto:
        printer.say(f"{train.epochs} epochs at lr {train.lr:g} (train.epochs / train.lr = 0: "
                    "auto)")
    return train


def _make_trainer(model, data: Prepared, train: TrainConfig, seed: int, out: str | None,
                  printer: Printer, param_groups, meta: dict):
    """The Trainer of ``train``: loss and metrics of the task, optimizer, schedule, callbacks;
    ``train.monitor`` checked against what it logs."""
    from ffnn.distributed import launched_with_mpi
    from ffnn.train import Trainer

    loss, metrics = _build.loss_and_metrics(data.task)
    optimizer = _build.build_optimizer(train, param_groups or trainable_parameters(model))
    steps = -(-data.X_train.shape[0] // train.batch_size)
    scheduler, interval = _build.build_scheduler(train, optimizer, steps)
    has_val = data.X_val is not None
    callbacks = _callbacks(train, out, has_val, printer, meta)
    trainer = Trainer(model, loss, optimizer, metrics=metrics, callbacks=callbacks,
                      scheduler=scheduler, scheduler_interval=interval,
                      grad_clip=train.grad_clip or None, l1=train.l1, seed=seed,
                      distributed=launched_with_mpi(),  # mpiexec -n N: rank 0 writes the run
                      compile=False if train.compile == "off" else train.compile)
    check_monitor(train, trainer, has_val)
    return trainer


def _fit_options(train: TrainConfig, augment: AugmentConfig, data: Prepared, printer: Printer,
                 out: str | None, resume: bool) -> dict:
    """Keyword arguments of ``Trainer.fit``: epochs, batch size, augmentation, verbosity and,
    resuming, the last checkpoint (model, optimizer, scheduler, callbacks, history, RNG)."""
    num_classes = data.num_outputs if data.task == "classification" else None
    options = {"epochs": train.epochs, "batch_size": train.batch_size,
               "augment": _build.build_augment(augment, data.X_train.shape[1], num_classes),
               "verbose": _verbose(printer)}
    if resume:
        options["resume_from"] = os.path.join(out, _model_io.LAST)
        if not os.path.isfile(options["resume_from"]):
            raise FileNotFoundError(f"cannot resume {out!r}: {options['resume_from']} is "
                                    "missing (the run stopped before its first epoch ended)")
    return options


def _start_folder(out: str | None, config_text: str | None, resume: bool) -> None:
    """Create the run folder and write its config.toml (rank 0; a resumed run keeps it)."""
    if out is None or not main_process():
        return
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as error:  # name the key, not only the path
        raise type(error)(error.errno, f"cannot create the run folder {out!r} (--out, config "
                          f"key 'out'): {error.strerror}") from None
    if config_text is not None and not resume:
        write_text(os.path.join(out, CONFIG), config_text)


def _best_model(model, out: str | None):
    """The best epoch's weights when the run folder holds them, else ``model``."""
    from ffnn.distributed import launched_with_mpi

    if launched_with_mpi():  # rank 0's checkpoints are on disk before any rank reads them
        from ffnn.distributed import barrier

        barrier()
    best = os.path.join(out, _model_io.BEST) if out is not None else None
    if best is not None and os.path.isfile(best):
        model, _, _ = _model_io.load_model(best)
    return model


def _test_metrics(model, data: Prepared) -> dict:
    """Metrics on the held-out test rows, in the target's units ({} without a test split)."""
    if data.X_test is None:
        return {}
    y_test = data.y_test if data.task == "classification" else \
        inverse_y(data.preprocessing, data.y_test)
    return _model_io.metrics_for(data.preprocessing, model, data.X_test, y_test)


def _finish_folder(out: str | None, history, summary: dict) -> None:
    """curves.png (after at least one epoch) and summary.json (rank 0)."""
    if out is None or not main_process():
        return
    if len(history.epoch):
        history.plot(os.path.join(out, CURVES))
    write_text(os.path.join(out, SUMMARY), json.dumps(summary, indent=2) + "\n")


def best_epoch(history, monitor: str) -> int | None:
    """The 1-based epoch with the best ``monitor`` (the first of equals; as best.safetensors),
    or None when no epoch logged a number for it."""
    from ffnn.train.metrics import greater_is_better

    values = np.asarray(history.history.get(monitor, []), dtype=np.float64)
    if not np.any(~np.isnan(values)):
        return None
    pick = np.nanargmax if greater_is_better(monitor) else np.nanargmin
    return int(pick(values)) + 1


def _summary(model, data: Prepared, history, test: dict, seconds: float, monitor: str) -> dict:
    trainable, total = count_parameters(model, trainable_only=True), count_parameters(model)
    logs = {k: v[-1] for k, v in history.history.items()} if len(history.epoch) else {}
    return {
        "task": data.task,
        "classes": data.preprocessing["classes"],
        "features": len(data.preprocessing["features"]),
        "rows": {"train": int(data.X_train.shape[0]),
                 "val": 0 if data.X_val is None else int(data.X_val.shape[0]),
                 "test": 0 if data.X_test is None else int(data.X_test.shape[0])},
        "epochs": len(history.epoch),
        "monitor": monitor,
        "best_epoch": best_epoch(history, monitor),
        "last": {k: float(v) for k, v in logs.items()},
        "test": {k: v for k, v in test.items() if k != "confusion_matrix"},
        "parameters": {"trainable": trainable, "total": total},
        "seconds": round(seconds, 3),
    }
