"""Exact resume: everything a :class:`~ffnn.train.Trainer` needs to continue a run.

The Trainer seeds shuffling, augmentation and dropout of epoch ``e`` from ``(seed, e)``, so a
run restored at an epoch boundary — weights, optimizer, scheduler, callbacks' state (e.g.
EarlyStopping's counters and best), history, epoch, step and RNG states — replays the
remaining epochs bit for bit. ``ModelCheckpoint`` writes this state into every checkpoint;
``Trainer.fit(..., resume_from=path)`` reads it back with :func:`restore_training_state`.
"""

from __future__ import annotations

import os

from ffnn.io.checkpoint import CheckpointError, load


def training_state(trainer, epoch: int | None = None, logs: dict | None = None) -> dict:
    """JSON-able (arrays allowed) state of ``trainer`` after ``epoch`` completed epochs.

    ``logs``: that epoch's logs when called before the Trainer recorded them in its History
    (they are appended, with ``logs['time']`` as the epoch time).
    """
    history = trainer.history
    if logs is not None:
        history = type(history).from_dict(history.to_dict())
        logs = dict(logs)
        seconds = logs.pop("time", None)
        history.record(epoch - 1, logs, seconds)
    callbacks = []
    for callback in trainer.callbacks:
        state = callback.state_dict() if hasattr(callback, "state_dict") else None
        callbacks.append({"class": type(callback).__name__, "state": state})
    return {"epoch": trainer.epoch if epoch is None else int(epoch),
            "global_step": int(trainer.global_step), "rng": trainer.rng_state(),
            "history": history.to_dict(), "callbacks": callbacks}


def restore_training_state(trainer, path: str | os.PathLike) -> int:
    """Load the checkpoint at ``path`` into ``trainer`` (model, optimizer, scheduler,
    callbacks, history, epoch, step, RNG); returns the epoch to continue from.

    Raises CheckpointError for an invalid file or one saved without training state, and
    when the trainer's callbacks or optimizer do not match the saved run.
    """
    checkpoint = load(path, model=trainer.model)
    state = checkpoint.training_state
    if not isinstance(state, dict):
        raise CheckpointError(path, "this checkpoint has no training state to resume from "
                              "(write it with ModelCheckpoint); load the weights with "
                              "ffnn.load(path) instead")
    try:
        if checkpoint.optimizer is not None:
            trainer.optimizer.load_state_dict(checkpoint.optimizer)
        if checkpoint.scheduler is not None and trainer.scheduler is not None:
            trainer.scheduler.load_state_dict(checkpoint.scheduler)
        _restore_callbacks(path, trainer.callbacks, state["callbacks"])
        trainer.history = type(trainer.history).from_dict(state["history"])
        trainer.epoch, trainer.global_step = int(state["epoch"]), int(state["global_step"])
        trainer.set_rng_state(state["rng"])
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        raise CheckpointError(path, f"cannot restore the training state: "
                              f"{type(error).__name__}: {error}") from None
    return trainer.epoch


def _restore_callbacks(path, callbacks: list, saved: list) -> None:
    """Match saved states to the trainer's callbacks by class, in order."""
    pending = [entry for entry in saved if entry["state"] is not None]
    for callback in callbacks:
        if not hasattr(callback, "load_state_dict"):
            continue
        index = next((i for i, entry in enumerate(pending)
                      if entry["class"] == type(callback).__name__), None)
        if index is None:
            raise CheckpointError(path, f"no saved state for callback "
                                  f"{type(callback).__name__} (saved: "
                                  f"{[entry['class'] for entry in saved]})")
        callback.load_state_dict(pending.pop(index)["state"])
