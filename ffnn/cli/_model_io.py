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
    check_record(path, loaded.model, pre)
    loaded.model.eval()
    return loaded.model, pre, meta


def _corrupt(path: str, field: str, expected: str, received) -> CLIError:
    return CLIError(f"{path} is corrupt or was edited: its preprocessing.{field} {expected}. "
                    f"Received: {field}={received!r}")


def check_record(path: str, model, pre: dict) -> None:
    """CLIError naming the field where the preprocessing record of the checkpoint at ``path``
    disagrees with ``model`` (one class label per output) or holds a value no training writes
    (a NaN statistic, a zero scale), before it is applied to anyone's data."""
    from ffnn.finetune.surgery import last_linear

    task, classes, features = pre.get("task"), pre.get("classes"), pre.get("features")
    if task not in ("classification", "regression"):
        raise _corrupt(path, "task", "must be 'classification' or 'regression'", task)
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise _corrupt(path, "features", "must be a list of column names", features)
    try:
        width = last_linear(model)[2].out_features
    except ValueError:  # no Linear layer: nothing to compare the labels with
        width = None
    if task == "classification" and not (
            isinstance(classes, list) and all(isinstance(c, str) for c in classes)
            and len(set(classes)) == len(classes) == (width or len(classes)) >= 2):
        raise _corrupt(path, "classes", f"must list one distinct label per output of the model "
                       f"({width} outputs)", classes)
    if task == "regression" and width not in (None, 1):
        raise _corrupt(path, "task", f"is 'regression', which needs one model output, not "
                       f"{width}", task)
    for key in ("x_scaler", "y_scaler"):
        record = pre.get(key)
        state = record.get("state", {}) if isinstance(record, dict) else {}
        for name, values in state.items():
            _check_statistic(path, f"{key}.state.{name}", values, positive=name == "scale")
    for column in (pre.get("tabular") or {}).get("columns", []):
        if isinstance(column, dict) and column.get("kind") == "numeric":
            where = f"tabular column {column.get('name')!r}"
            for name in ("median", "mean", "std"):
                _check_statistic(path, f"{where} {name}", column.get(name),
                                 positive=name == "std")


def _check_statistic(path: str, field: str, values, positive: bool) -> None:
    """A fitted statistic (a number or a list of them) is finite, and > 0 if ``positive``."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise _corrupt(path, field, "must be a number", values) from None
    if not np.isfinite(array).all():
        raise _corrupt(path, field, "must be finite", values)
    if positive and not (array > 0).all():
        raise _corrupt(path, field, "must be positive (a scale the data is divided by)", values)


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


def finite_outputs(model, X: np.ndarray, pre: dict, path: str,
                   rows: np.ndarray | None = None) -> np.ndarray:
    """``outputs(model, X)`` of the data file ``path``; CLIError naming the first row (``rows``:
    X's file rows, 0-based) whose output is not finite: a value so far from the training data
    that the network overflows float32, though its scaled input still fits (NumPy's overflow
    warnings silenced: the error says it, once)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = outputs(model, X)
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        j = int(np.argmax(np.abs(X[i])))
        if "tabular" in pre:
            from ffnn.data.tabular import TabularPreprocessor

            names = TabularPreprocessor.from_state_dict(pre["tabular"]).output_names
        else:
            names = pre["features"]
        row = (i if rows is None else int(rows[i])) + 1
        raise CLIError(f"{path}: row {row}: the model's output overflows float32 (not "
                       f"finite); its largest scaled input is column {names[j]!r} = "
                       f"{X[i, j]:.3g} (a value far from the training data, or a checkpoint "
                       f"whose weights are too large). Received: {int(bad.sum())} such rows")
    return out


def metrics_for(pre: dict, model, X: np.ndarray, y: np.ndarray,
                out: np.ndarray | None = None) -> dict:
    """Metrics in the data's own units: loss, accuracy, confusion matrix (classification) or
    mse, mae, r2 (regression). ``y``: class indices, or unscaled regression targets; ``out``:
    the model's outputs for X, if already computed."""
    from ffnn.cli._data import inverse_y
    from ffnn.nn.loss import softmax_probabilities
    from ffnn.train import metrics as m

    out = outputs(model, X) if out is None else out
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
