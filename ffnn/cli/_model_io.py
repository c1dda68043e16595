"""Checkpoints as the CLI uses them: the model plus its preprocessing record in the metadata."""

from __future__ import annotations

import os

import numpy as np

from ffnn.cli._common import CLIError

BEST, LAST = "best.safetensors", "last.safetensors"


def save_model(path: str, model, preprocessing: dict, extra: dict | None = None) -> None:
    """``ffnn.save`` with ``metadata = {"preprocessing": ..., **extra}``."""
    import ffnn

    ffnn.save(path, model, metadata={"preprocessing": preprocessing, **(extra or {})})


def load_model(path: str):
    """(model in eval mode, preprocessing record, metadata) of a checkpoint written by the CLI."""
    import ffnn

    if os.path.isdir(path):
        best = os.path.join(path, BEST)
        if not os.path.isfile(best):
            raise CLIError(f"{path} is a folder without {BEST}; pass a checkpoint file")
        path = best
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path!r}")
    loaded = ffnn.load(path)
    meta = loaded.metadata or {}
    pre = meta.get("preprocessing")
    if loaded.model is None or not isinstance(pre, dict):
        raise CLIError(f"{path} has no preprocessing record (it was not written by `ffnn train`"
                       " or `ffnn finetune`); use ffnn.load in Python instead")
    for name, tensor in loaded.model.state_dict().items():
        values = tensor.numpy()
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise CLIError(f"{path}: {name} holds NaN or infinite values (the checkpoint of a "
                           "run that diverged?): a model cannot be used or trained from it")
    loaded.model.eval()
    return loaded.model, pre, meta


def outputs(model, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for scaled X [n, d], eval mode, no graph."""
    import ffnn
    from ffnn.tensor import Tensor

    was_training = model.training
    model.eval()
    try:
        with ffnn.no_grad():
            parts = [model(Tensor._make(X[i:i + batch_size], False, None))._data
                     for i in range(0, X.shape[0], batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)


def metrics_for(pre: dict, model, X: np.ndarray, y: np.ndarray) -> dict:
    """Metrics in the data's own units: loss, accuracy, confusion matrix (classification) or
    mse, mae, r2 (regression). ``y``: class indices, or unscaled regression targets."""
    from ffnn.cli._data import inverse_y
    from ffnn.nn.loss import softmax_probabilities
    from ffnn.train import metrics as m

    out = outputs(model, X)
    if pre["task"] == "classification":
        probs = softmax_probabilities(out)
        picked = probs[np.arange(y.shape[0]), y]
        loss = float(-np.mean(np.log(np.maximum(picked, 1e-300))))
        pred = probs.argmax(axis=1)
        return {"loss": loss, "accuracy": m.accuracy(y, pred),
                "confusion_matrix": m.confusion_matrix(y, pred, len(pre["classes"])).tolist()}
    pred = inverse_y(pre, out[:, 0])
    return {"mse": m.mean_squared_error(y, pred), "mae": m.mean_absolute_error(y, pred),
            "r2": m.r2_score(y, pred)}
