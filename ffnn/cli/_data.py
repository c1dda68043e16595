"""Data for the CLI: load (bundled set or CSV), encode labels, split, scale; and the
preprocessing record saved in checkpoints so ``eval`` / ``predict`` apply it again."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np

from ffnn.cli._common import CLIError
from ffnn.config import DataConfig

SCALERS = {"standard": "StandardScaler", "minmax": "MinMaxScaler"}


@dataclass
class Prepared:
    """Scaled splits and what is needed to apply the same preprocessing later."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    preprocessing: dict  # JSON-able: features, target, task, classes, scalers

    @property
    def task(self) -> str:
        return self.preprocessing["task"]

    @property
    def num_outputs(self) -> int:
        classes = self.preprocessing["classes"]
        return len(classes) if classes is not None else 1


def _label_text(value) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def load_raw(data: DataConfig):
    """(X, y, feature_names, target_name, label texts or None) from a CSV or a bundled set."""
    if data.csv:
        from ffnn.data import load_csv

        if not data.target:
            raise CLIError(f"data.target is required with data.csv (the column to predict in "
                           f"{data.csv})")
        loaded = load_csv(data.csv, data.target, data.features or None)
        labels = loaded.classes  # text labels: y holds indices into them
        return loaded.X, loaded.y, loaded.feature_names, data.target, labels
    if not data.name:
        raise CLIError("no data: set data.name (a bundled set) or data.csv and data.target")
    import ffnn.data as fdata

    bunch = getattr(fdata, f"load_{data.name}")()
    labels = bunch.target_names if bunch.task == "classification" else None
    return bunch.X, bunch.y, bunch.feature_names, "target", labels


def encode_labels(y: np.ndarray, labels: list[str] | None, task: str):
    """Class indices 0..k-1 and their label texts (classification), or float targets."""
    if task == "regression":
        if labels is not None:
            raise CLIError("data.task = 'regression' needs a numeric target column; it holds "
                           f"text labels such as {labels[0]!r}")
        return y.astype(np.float32), None
    if labels is not None:  # already indices into text (or bundled) labels
        used = np.unique(y)
        if used.size == len(labels):
            return y.astype(np.int64), list(labels)
        return np.searchsorted(used, y).astype(np.int64), [labels[i] for i in used]
    values, index = np.unique(y, return_inverse=True)
    if values.size > 1000:
        raise CLIError(f"classification target with {values.size} distinct values; set "
                       "data.task = 'regression'")
    return index.astype(np.int64), [_label_text(v) for v in values]


def _keep_classes(X, y, labels, wanted: list[str]):
    """The rows whose label text is in ``wanted`` (CLIError for a label that never occurs)."""
    texts = (np.asarray(labels, dtype=object)[y] if labels is not None
             else np.array([_label_text(v) for v in y], dtype=object))
    present = set(texts.tolist())
    missing = [c for c in wanted if c not in present]
    if missing:
        shown = sorted(present, key=lambda t: (len(t), t))[:20]
        raise CLIError(f"data.classes: labels {missing} do not occur in the target; "
                       f"labels present: {shown}")
    mask = np.isin(texts, np.asarray(wanted, dtype=object))
    return X[mask], y[mask]


def _split(X, y, fraction: float, stratify: bool, seed: int):
    from ffnn.data import train_test_split

    if fraction <= 0 or X.shape[0] < 4:
        return X, None, y, None
    strat = y if stratify and np.unique(y, return_counts=True)[1].min() >= 2 else None
    try:
        return train_test_split(X, y, test_size=fraction, stratify=strat, random_state=seed)
    except ValueError:  # too few samples per class for stratification
        return train_test_split(X, y, test_size=fraction, random_state=seed)


def make_scaler(kind: str):
    import ffnn.data as fdata

    return None if kind == "none" else getattr(fdata, SCALERS[kind])()


def prepare(data: DataConfig, seed: int, base: dict | None = None,
            checkpoint: str = "") -> Prepared:
    """Load, encode, split (test, then validation from the rest) and scale (fit on train).

    ``base``: the preprocessing record of a model being fine-tuned; its feature scaler is
    reused (the model's first layer expects those inputs) and its feature count enforced.
    """
    from ffnn.data import infer_task

    X, y, features, target, labels = load_raw(data)
    if base is not None and X.shape[1] != len(base["features"]):
        raise CLIError(f"{checkpoint} was trained on {len(base['features'])} features, but the "
                       f"fine-tuning data has {X.shape[1]} ({list(features)[:8]}...)")
    if data.classes:
        X, y = _keep_classes(X, y, labels, data.classes)
    task = data.task
    if task == "auto":
        task = "classification" if labels is not None else infer_task(y)
    y, classes = encode_labels(y, labels, task)
    stratify = task == "classification"
    X_rest, X_test, y_rest, y_test = _split(X, y, data.test_split, stratify, seed)
    X_train, X_val, y_train, y_val = _split(X_rest, y_rest, data.val_split, stratify, seed + 1)
    if data.rows_per_class:
        if task != "classification":
            raise CLIError("data.rows_per_class needs a classification task")
        keep = np.concatenate([np.flatnonzero(y_train == c)[:data.rows_per_class]
                               for c in range(len(classes))])  # a loop over classes
        X_train, y_train = X_train[np.sort(keep)], y_train[np.sort(keep)]
    x_scaler = make_scaler("none" if base is not None else data.normalize)
    y_scaler = make_scaler("standard") if task == "regression" else None
    if x_scaler is not None:
        x_scaler.fit(X_train)
    if y_scaler is not None:
        y_scaler.fit(y_train)
    x_record = base["x_scaler"] if base is not None else scaler_record(x_scaler, data.normalize)
    pre = {"features": list(features), "target": target, "task": task, "classes": classes,
           "x_scaler": x_record, "y_scaler": scaler_record(y_scaler, "standard")}
    scale = lambda a: None if a is None else transform_x(pre, a)  # noqa: E731
    scale_y = lambda a: None if a is None else transform_y(pre, a)  # noqa: E731
    return Prepared(scale(X_train), scale_y(y_train), scale(X_val), scale_y(y_val),
                    scale(X_test), scale_y(y_test), pre)


# ----- the preprocessing record ------------------------------------------------------------
def scaler_record(scaler, kind: str) -> dict | None:
    if scaler is None:
        return None
    state = {k: np.asarray(v, dtype=np.float64).tolist() for k, v in scaler.state_dict().items()}
    return {"kind": kind, "config": scaler.get_config(), "state": state}


def _scaler(record: dict | None):
    if record is None:
        return None
    scaler = make_scaler(record["kind"])
    config = dict(record.get("config", {}))
    if "feature_range" in config:
        config["feature_range"] = tuple(config["feature_range"])
    scaler = type(scaler)(**config)
    scaler.load_state_dict(record["state"])
    return scaler


def transform_x(pre: dict, X: np.ndarray) -> np.ndarray:
    scaler = _scaler(pre.get("x_scaler"))
    X = X if scaler is None else scaler.transform(X)
    return np.ascontiguousarray(X, dtype=np.float32)


def transform_y(pre: dict, y: np.ndarray) -> np.ndarray:
    scaler = _scaler(pre.get("y_scaler"))
    if scaler is None:
        return y
    return np.asarray(scaler.transform(np.asarray(y, dtype=np.float64)), dtype=np.float32)


def inverse_y(pre: dict, y: np.ndarray) -> np.ndarray:
    scaler = _scaler(pre.get("y_scaler"))
    return y if scaler is None else scaler.inverse_transform(np.asarray(y, dtype=np.float64))


# ----- new data for eval / predict ---------------------------------------------------------
def _header(path: str) -> list[str]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data file not found: {path!r}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.reader(f):
            if any(c.strip() for c in row):
                return [c.strip() for c in row]
    raise CLIError(f"{path}: the file is empty; a header row is required")


def read_new_data(path: str, pre: dict, checkpoint: str, need_target: bool):
    """(X scaled, y encoded or None, raw X) from a CSV, checked against the checkpoint."""
    from ffnn.data import load_csv

    header = _header(path)
    target = pre["target"] if pre["target"] in header else None
    if need_target and target is None:
        raise CLIError(f"{path} has no target column {pre['target']!r} (the column the model in "
                       f"{checkpoint} was trained to predict). Columns: {header}")
    columns = [c for c in header if c != target]
    features = pre["features"]
    if len(columns) != len(features):
        raise CLIError(f"{checkpoint} was trained on {len(features)} features {features}, but "
                       f"{path} has {len(columns)} feature columns {columns}")
    use = features if set(features) == set(columns) else columns
    loaded = load_csv(path, target, use)
    y = None
    if target is not None:
        y = _encode_new_target(loaded, pre, path)
    return transform_x(pre, loaded.X), y, loaded.X


def _encode_new_target(loaded, pre: dict, path: str) -> np.ndarray:
    if pre["task"] == "regression":
        if loaded.classes is not None:
            raise CLIError(f"{path}: target column {pre['target']!r} must be numeric "
                           f"(regression). Received labels such as {loaded.classes[0]!r}")
        return loaded.y.astype(np.float64)
    texts = loaded.classes
    values = (np.asarray(texts)[loaded.y] if texts is not None
              else [_label_text(v) for v in loaded.y])
    index = {label: i for i, label in enumerate(pre["classes"])}
    unknown = sorted({str(v) for v in values} - set(index))
    if unknown:
        raise CLIError(f"{path}: target column {pre['target']!r} holds labels {unknown[:5]} "
                       f"that the model never saw; known labels: {pre['classes']}")
    return np.array([index[str(v)] for v in values], dtype=np.int64)

