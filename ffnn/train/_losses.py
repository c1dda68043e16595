"""What the Trainer needs to know about a loss: its task and how outputs become probabilities."""

from __future__ import annotations

import numpy as np

_NAMES = {
    "cross_entropy": "CrossEntropyLoss", "nll": "NLLLoss", "mse": "MSELoss", "l1": "L1Loss",
    "mae": "L1Loss", "huber": "HuberLoss", "bce": "BCELoss",
    "bce_with_logits": "BCEWithLogitsLoss",
}
_TASKS = {"CrossEntropyLoss": "multiclass", "NLLLoss": "multiclass", "BCELoss": "binary",
          "BCEWithLogitsLoss": "binary"}


def get_loss(loss):
    """A loss module from a name ('cross_entropy', 'mse', ...) or the callable itself."""
    if isinstance(loss, str):
        from ffnn import nn

        if loss not in _NAMES:
            raise ValueError(f"Trainer: unknown loss name; known names: {sorted(_NAMES)}. "
                             f"Received: loss={loss!r}")
        return getattr(nn, _NAMES[loss])()
    if not callable(loss):
        raise TypeError(f"Trainer: loss must be a callable loss(output, target) or a name. "
                        f"Received: loss={loss!r} ({type(loss).__name__})")
    return loss


def loss_task(loss) -> str | None:
    """'multiclass' (softmax/NLL losses), 'binary' (BCE losses) or None (regression)."""
    return _TASKS.get(type(loss).__name__)


def probabilities(loss, outputs: np.ndarray) -> np.ndarray:
    """Model outputs -> class probabilities: softmax (cross-entropy), exp (NLL on
    log-probabilities), σ (BCE with logits), unchanged (BCE on probabilities)."""
    name = type(loss).__name__
    outputs = np.asarray(outputs, dtype=np.float64)
    if name == "CrossEntropyLoss":
        shifted = outputs - outputs.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-1, keepdims=True)
    if name == "NLLLoss":
        return np.exp(outputs)
    if name == "BCEWithLogitsLoss":
        out = np.empty_like(outputs)  # stable σ: exp of a non-positive number only
        pos = outputs >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-outputs[pos]))
        e = np.exp(outputs[~pos])
        out[~pos] = e / (1.0 + e)
        return out
    if name == "BCELoss":
        return outputs
    raise TypeError(f"predict_proba needs a classification loss (CrossEntropyLoss, NLLLoss, "
                    f"BCELoss, BCEWithLogitsLoss). Received: loss {name}")


def labels(probs: np.ndarray) -> np.ndarray:
    """Class labels from probabilities: argmax of [n, k>1], p > 0.5 of [n] / [n, 1]."""
    if probs.ndim == 2 and probs.shape[1] > 1:
        return probs.argmax(axis=1)
    return (probs.reshape(probs.shape[0]) > 0.5).astype(np.int64)
