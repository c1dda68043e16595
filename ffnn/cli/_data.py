"""Data for the CLI: load (bundled set or CSV), encode labels, split, scale; and the
preprocessing record saved in checkpoints so ``eval`` / ``predict`` apply it again."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ffnn.cli._common import CLIError
from ffnn.cli.config import DataConfig

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
    preprocessing: dict  # JSON-able: features, target, task, classes, scalers, tabular
    notes: list[str] = field(default_factory=list)  # what was dropped or filled, for the user
    rows: dict | None = None  # CSV: split name -> the data rows (0-based, in file order) it holds

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
    """(X, y, feature_names, target_name, label texts or None) of a bundled set."""
    if not data.name:
        raise CLIError("no data: set data.name (a bundled set) or data.csv and data.target")
    import ffnn.data as fdata

    bunch = getattr(fdata, f"load_{data.name}")()
    labels = bunch.target_names if bunch.task == "classification" else None
    return bunch.X, bunch.y, bunch.feature_names, "target", labels


def _check_columns(path: str, header: list[str], target: str, features: list[str],
                   categorical=()) -> None:
    """The target and features are columns of the file, each feature once, not the target;
    ``categorical`` (data.categorical) names features."""
    from ffnn.data.table import column_error

    if target not in header:
        raise column_error(path, target, header, "target")
    for name in features:
        if name not in header:
            raise column_error(path, name, header, "feature")
    if target in features:
        raise CLIError(f"data.features lists the target column {target!r}. Received: "
                       f"data.features={features}")
    twice = sorted({name for name in features if features.count(name) > 1})
    if twice:
        raise CLIError(f"data.features names a column more than once ({twice}). Received: "
                       f"data.features={features}")
    unknown = [name for name in categorical if name not in features]
    if unknown:
        raise CLIError(f"data.categorical names columns that are not features: {unknown}. "
                       f"Features: {features[:20]}")


def _target_values(values: np.ndarray):
    """(y, labels or None): text targets become indices into their sorted labels."""
    if values.dtype.kind in "biuf":
        return values, None
    labels = sorted(set(values.tolist()))
    index = {label: i for i, label in enumerate(labels)}
    return np.array([index[v] for v in values.tolist()], dtype=np.int64), labels


def _missing_target(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind in "biuf":
        return ~np.isfinite(values)
    return np.array([v is None for v in values.tolist()], dtype=bool)


def load_table(data: DataConfig, notes: list[str]):
    """(feature table of every data row, y, feature names, label texts or None, the file's
    data rows kept: y's rows) of ``data.csv``; rows with a missing target (or, with
    data.missing = 'drop', any gap) are left out of y, as ``notes`` say."""
    from ffnn.data.table import read_header, read_table
    from ffnn.data.tabular import TabularPreprocessor, check_stray_text, stray_text_cell

    path = data.csv
    if not data.target:
        raise CLIError(f"data.target is required with data.csv (the column to predict in {path})")
    header = read_header(path, data.encoding or None)
    features = list(data.features) or [c for c in header if c != data.target]
    if not features:
        raise CLIError(f"{path}: no feature columns: the file holds only the target "
                       f"{data.target!r} (data.features lists the columns to learn from)")
    _check_columns(path, header, data.target, features, data.categorical)
    table = read_table(path, [*features, data.target], data.encoding or None, data.na_values)
    _check_has_rows(table, path)
    target = table.pop(data.target)
    table = check_stray_text(table, data.categorical, path)
    stray = stray_text_cell(target) if data.task != "classification" else None
    if stray is not None:  # one typo must not turn a regression into 100 classes
        raise CLIError(f"{path}: row {stray[0] + 1}, target column {data.target!r}: cannot "
                       f"convert {stray[1]!r} to a number, and the column is otherwise "
                       "numeric: fix the cell, list it in data.na_values if it marks a "
                       "missing value, or set data.task = 'classification'")
    full = table
    gone = _missing_target(target)
    if gone.any():
        if data.missing == "error":
            row = int(np.argmax(gone)) + 1
            raise CLIError(f"{path}: row {row}, target column {data.target!r} is empty (missing "
                           f"value; {int(gone.sum())} rows). data.missing = 'error'; use "
                           "'impute' or 'drop' to train on the other rows")
        notes.append(f"dropped {int(gone.sum())} of {gone.size} rows with a missing target "
                     f"{data.target!r}")
    keep = ~gone
    if data.missing == "drop":
        complete = TabularPreprocessor().complete_rows(table)
        if (keep & ~complete).any():
            notes.append(f"dropped {int((keep & ~complete).sum())} rows with missing cells "
                         "(data.missing = 'drop')")
        keep &= complete
    target = target[keep]  # (the table keeps every row: errors name the file's rows)
    if gone.size == 0:
        raise CLIError(f"{path} has a header but no data rows")
    if target.shape[0] == 0:
        empty = [name for name, values in full.items()
                 if _missing_target(values).all()]  # (numbers: NaN; text: None)
        hint = (f"; these columns are empty in every row: {empty[:8]} (leave them out with "
                "data.features, or use data.missing = 'impute')") if empty else ""
        raise CLIError(f"{path}: no rows left to train on (every row has a missing value"
                       f"{hint})")
    y, labels = _target_values(target)
    return table, y, features, labels, np.flatnonzero(keep)


def encode_labels(y: np.ndarray, labels: list[str] | None, task: str):
    """Class indices 0..k-1 and their label texts (classification), or float targets."""
    if task == "regression":
        if labels is not None:
            raise CLIError("data.task = 'regression' needs a numeric target column; it holds "
                           f"text labels such as {labels[0]!r}")
        _refuse_beyond_float32(y, "the regression target")
        return y.astype(np.float32), None
    if labels is not None:  # already indices into text (or bundled) labels
        used = np.unique(y)
        if used.size == len(labels):
            return y.astype(np.int64), list(labels)
        return np.searchsorted(used, y).astype(np.int64), [labels[i] for i in used]
    values, index = np.unique(y, return_inverse=True)
    fractional = values[values != np.round(values)]
    if fractional.size:
        raise CLIError(f"data.task = 'classification' needs class labels, but the target holds "
                       f"non-integer numbers such as {_label_text(fractional[0])} ({values.size} "
                       "distinct values: a continuous target); set data.task = 'regression'. "
                       f"Received: {fractional.size} fractional values")
    if values.size > 1000:
        raise CLIError(f"classification target with {values.size} distinct values; set "
                       "data.task = 'regression'")
    return index.astype(np.int64), [_label_text(v) for v in values]


def _refuse_beyond_float32(y: np.ndarray, what: str, rows: np.ndarray | None = None) -> None:
    """CLIError for a regression target beyond float32's range, which the model computes in
    (its scale, and the error of a prediction, would overflow); ``rows``: y's file rows."""
    beyond = np.abs(y) > np.finfo(np.float32).max
    if beyond.any():
        i = int(np.argmax(beyond))
        at = "" if rows is None else f" in row {int(rows[i]) + 1}"
        raise CLIError(f"{what} holds {y[i]:g}{at}, beyond float32's range (±3.4e38) the model "
                       "computes in: rescale the column (e.g. its logarithm). Received: "
                       f"{int(beyond.sum())} such values")


TARGET_SPREAD = 1e-3
"""A regression target whose middle half (25th to 75th percentile) spans less than this
fraction of its std has that std set by outliers: standardised, its other values differ by
less than this, and the squared error is mostly the outliers'. (A z-score bound cannot tell:
one value among n is at most √(n-1) standard deviations out.)"""


def warn_dominated_target(y: np.ndarray, target: str, where: str,
                          rows: np.ndarray | None = None) -> None:
    """A one-line warning (training goes on) naming the row and value of the target's
    farthest outlier where outliers set its scale (``TARGET_SPREAD``); ``rows``: y's 0-based
    data rows in the file, where known. Features so flattened are an error
    (``ffnn.data.tabular.FLAT``)."""
    from ffnn.cli._common import warn

    x = y.astype(np.float64)
    if x.size < 2:
        return
    q1, q3 = np.percentile(x, [25, 75])
    std = float(x.std())
    if not 0 < q3 - q1 < TARGET_SPREAD * std:
        return
    i = int(np.argmax(np.abs(x - np.median(x))))
    at = f"row {int(rows[i]) + 1}, " if rows is not None else ""
    warn(f"{where}: {at}target column {target!r} holds {x[i]:g}, an outlier that sets the "
         f"target's scale (std {std:.3g}) while its middle half spans {q1:g} to {q3:g}: "
         "standardised, the middle half of the targets spans less than 0.001 and the loss is "
         "mostly the outliers'. Fix or clip the cell, rescale the column (e.g. its logarithm), or "
         "list the cell in data.na_values if it marks a missing value")


def _keep_classes(y, labels, wanted: list[str]) -> np.ndarray:
    """bool mask of the rows whose label text is in ``wanted`` (CLIError for a label that
    never occurs)."""
    texts = (np.asarray(labels, dtype=object)[y] if labels is not None
             else np.array([_label_text(v) for v in y], dtype=object))
    present = set(texts.tolist())
    missing = [c for c in wanted if c not in present]
    if missing:
        shown = sorted(present, key=lambda t: (len(t), t))[:20]
        raise CLIError(f"data.classes: labels {missing} do not occur in the target; "
                       f"labels present: {shown}")
    return np.isin(texts, np.asarray(wanted, dtype=object))


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
    """Load, encode, split (test, then validation from the rest) and preprocess (fitted on the
    training rows only).

    ``base``: the preprocessing record of a model being fine-tuned; its feature preprocessing
    is reused (the model's first layer expects those inputs) and its features enforced.
    """
    notes: list[str] = []
    table, X, y, features, target, labels = _load(data, notes)
    if base is not None:
        _check_base_features(base, features, checkpoint)
    if data.classes:
        X, y = _select_classes(data, X, y, labels)
    task, y, classes = _encode_target(data, y, labels, target)
    X_train, X_val, X_test, y_train, y_val, y_test = _split_rows(data, X, y, task, seed)
    if data.rows_per_class:
        X_train, y_train = _first_rows_per_class(data, X_train, y_train, task, len(classes))
    y_scaler = make_scaler("standard") if task == "regression" else None
    if y_scaler is not None:
        warn_dominated_target(y_train, target, data.csv or f"data set {data.name!r}",
                              X_train if table is not None else None)
        y_scaler.fit(y_train)
    pre = {"features": list(features), "target": target, "task": task, "classes": classes,
           "x_scaler": None, "y_scaler": scaler_record(y_scaler, "standard")}
    splits, rows = (X_train, X_val, X_test), None
    if table is not None:
        rows = dict(zip(("train", "val", "test"), splits))
        X_train, X_val, X_test = _preprocess_table(data, table, pre, base, splits, notes)
    else:
        X_train, X_val, X_test = _scale_features(data, pre, base, splits)
    scale_y = lambda a: None if a is None else transform_y(pre, a)  # noqa: E731
    return Prepared(X_train, scale_y(y_train), X_val, scale_y(y_val), X_test, scale_y(y_test),
                    pre, notes, rows)


def _load(data: DataConfig, notes: list[str]):
    """(table or None, X, y, feature names, target name, label texts or None). For a CSV, X
    holds the file's data rows (0-based row numbers into the table) until it is preprocessed."""
    if data.csv:
        table, y, features, labels, file_rows = load_table(data, notes)
        return table, file_rows, y, features, data.target, labels
    X, y, features, target, labels = load_raw(data)
    return None, X, y, features, target, labels


def _select_classes(data: DataConfig, X, y, labels):
    """The rows of the classes named in ``data.classes``."""
    if data.task == "regression":
        raise CLIError("data.classes selects classes of a classification target; this "
                       f"task is regression. Received: data.classes={list(data.classes)[:5]}")
    keep = _keep_classes(y, labels, data.classes)
    return X[keep], y[keep]


def _encode_target(data: DataConfig, y, labels, target: str):
    """(task, encoded y, class label texts or None); 'auto' told from the target."""
    from ffnn.data import infer_task

    task = data.task
    if task == "auto":
        task = "classification" if labels is not None else infer_task(y)
    y, classes = encode_labels(y, labels, task)
    if task == "classification" and len(classes) < 2:
        where = data.csv or f"data set {data.name!r}"
        raise CLIError(f"{where}: the target {target!r} has one class ({classes[0]!r}) in "
                       f"{y.shape[0]} rows; a classifier needs at least two. Check data.target "
                       "and data.classes, or set data.task = 'regression'")
    return task, y, classes


def _split_rows(data: DataConfig, X, y, task: str, seed: int):
    """(X_train, X_val, X_test, y_train, y_val, y_test): the test rows first, then the
    validation rows from the rest (stratified for classification)."""
    stratify = task == "classification"
    X_rest, X_test, y_rest, y_test = _split(X, y, data.test_split, stratify, seed)
    X_train, X_val, y_train, y_val = _split(X_rest, y_rest, data.val_split, stratify, seed + 1)
    return X_train, X_val, X_test, y_train, y_val, y_test


def _first_rows_per_class(data: DataConfig, X_train, y_train, task: str, num_classes: int):
    """The first ``data.rows_per_class`` training rows of each class, in their order."""
    if task != "classification":
        raise CLIError("data.rows_per_class needs a classification task")
    keep = np.concatenate([np.flatnonzero(y_train == c)[:data.rows_per_class]
                           for c in range(num_classes)])  # a loop over classes
    return X_train[np.sort(keep)], y_train[np.sort(keep)]


def _scale_features(data: DataConfig, pre: dict, base: dict | None, splits: tuple) -> tuple:
    """Fit ``data.normalize`` on the training rows (or take the base model's scaler), record
    it in ``pre`` and apply it to each split."""
    x_scaler = make_scaler("none" if base is not None else data.normalize)
    if x_scaler is not None:
        x_scaler.fit(splits[0])
    pre["x_scaler"] = base["x_scaler"] if base is not None else \
        scaler_record(x_scaler, data.normalize)
    return tuple(None if a is None else transform_x(pre, a) for a in splits)


def _check_base_features(base: dict, features: list[str], checkpoint: str) -> None:
    if list(features) != list(base["features"]) and (
            set(features) != set(base["features"]) or "tabular" not in base):
        absent = [c for c in base["features"] if c not in features]
        unexpected = [c for c in features if c not in base["features"]]
        raise CLIError(f"{checkpoint} was trained on {len(base['features'])} features "
                       f"{base['features'][:8]}, but the fine-tuning data has {len(features)} "
                       f"({list(features)[:8]}): missing {absent[:8]}, unexpected "
                       f"{unexpected[:8]} (columns are matched by name)")


def _preprocess_table(data: DataConfig, table: dict, pre: dict, base: dict | None,
                      splits: tuple, notes: list[str]) -> tuple:
    """Fit the TabularPreprocessor on the training rows (or take the base model's), record it
    in ``pre`` and transform each split (row numbers → float32 matrices)."""
    from ffnn.data.tabular import TabularPreprocessor

    if base is not None and "tabular" not in base:
        return tuple(None if rows is None else
                     transform_x(base, _numeric_matrix(table, pre["features"], data.csv, rows))
                     for rows in splits)
    if base is not None:
        tabular = TabularPreprocessor.from_state_dict(base["tabular"])
    else:
        tabular = TabularPreprocessor(data.categorical, data.missing, data.onehot_max,
                                      data.min_frequency)
        tabular.fit(table, data.csv, rows=splits[0])
    pre["tabular"] = tabular.state_dict()
    pre["csv"] = {"encoding": data.encoding, "na_values": list(data.na_values)}
    filled: dict[str, int] = {}
    out = []
    for rows in splits:
        if rows is None:
            out.append(None)
            continue
        out.append(tabular.transform(table, data.csv, rows=rows))
        for name, count in tabular.filled.items():
            filled[name] = filled.get(name, 0) + count
    if filled:
        shown = ", ".join(f"{name} {count}" for name, count in
                          sorted(filled.items(), key=lambda kv: -kv[1]))
        notes.append(f"filled {sum(filled.values())} missing cells ({shown}): numbers with the "
                     "training median (+ a <column>_na indicator), categories as 'missing'")
    return tuple(out)


def _numeric_matrix(table: dict, features: list[str], path: str,
                    rows: np.ndarray | None = None) -> np.ndarray:
    """The feature columns (of ``rows`` only, if given) as a float64 matrix; text or a gap is
    an error naming the cell."""
    from ffnn.data.table import num_rows

    at = np.arange(num_rows(table)) if rows is None else rows
    X = np.empty((at.shape[0], len(features)))
    for j, name in enumerate(features):
        values = table[name][at]
        if values.dtype.kind not in "biuf":
            bad = next((i, v) for i, v in enumerate(values.tolist())
                       if v is None or not _is_number(v))
            raise CLIError(f"{path}: row {at[bad[0]] + 1}, column {name!r}: {bad[1]!r} is not a "
                           "number; this model was trained on numeric features only")
        missing = ~np.isfinite(values)
        if missing.any():
            raise CLIError(f"{path}: row {at[np.argmax(missing)] + 1}, column {name!r} is empty "
                           "(missing value); this model was trained without missing values")
        X[:, j] = values
    return X


def _is_number(text) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


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
def read_new_data(path: str, pre: dict, checkpoint: str, need_target: bool):
    """(X preprocessed, y encoded or None, X's file rows or None: all rows) from a CSV whose
    feature columns match the checkpoint's by name. Without ``need_target`` (predict) a target
    column is ignored; with it (eval), rows with a missing target are left out (with a
    warning)."""
    from ffnn.cli._common import warn
    from ffnn.data.table import read_header, read_table

    reader = pre.get("csv", {})
    encoding = reader.get("encoding") or None
    header = read_header(path, encoding)
    target = pre["target"]
    if need_target and target not in header:
        raise CLIError(f"{path} has no target column {target!r} (the column the model in "
                       f"{checkpoint} was trained to predict). Columns: {header}")
    columns = [c for c in header if c != target]
    features = list(pre["features"])
    absent = [c for c in features if c not in columns]
    unexpected = [c for c in columns if c not in features]
    if absent or unexpected:
        raise CLIError(f"{checkpoint} was trained on {len(features)} features {features}, but "
                       f"{path} has {len(columns)} feature columns {columns}: missing {absent}, "
                       f"unexpected {unexpected} (columns are matched by name)")
    wanted = features + ([target] if need_target else [])
    table = read_table(path, wanted, encoding, reader.get("na_values", ()))
    _check_has_rows(table, path)
    y = rows = None  # rows: the rows read (all, or those with a target), for errors to name
    if need_target:
        values = table.pop(target)
        gone = _missing_target(values)
        if gone.any():
            warn(f"{path}: left out {int(gone.sum())} of {gone.size} rows with a missing target "
                 f"{target!r}")
            rows = np.flatnonzero(~gone)
            values = values[~gone]
            if values.shape[0] == 0:
                raise CLIError(f"{path}: every row's target {target!r} is missing; nothing to "
                               "evaluate")
        y = _encode_new_target(values, pre, path, rows)
    if "tabular" in pre:
        from ffnn.data.tabular import TabularPreprocessor

        X = TabularPreprocessor.from_state_dict(pre["tabular"]).transform(table, path, rows)
    else:
        X = transform_x(pre, _numeric_matrix(table, features, path, rows))
    return X, y, rows


def _check_has_rows(table: dict, path: str) -> None:
    from ffnn.data.table import num_rows

    if num_rows(table) == 0:
        raise CLIError(f"{path} has a header but no data rows. Received: 0 rows")


def _encode_new_target(values: np.ndarray, pre: dict, path: str, rows=None) -> np.ndarray:
    """The target of new data: class indices, or numbers (``rows``: their file rows)."""
    if pre["task"] == "regression":
        if values.dtype.kind not in "biuf":
            label = next(v for v in values.tolist() if not _is_number(v))
            raise CLIError(f"{path}: target column {pre['target']!r} must be numeric "
                           f"(regression). Received labels such as {label!r}")
        y = values.astype(np.float64)
        _refuse_beyond_float32(y, f"{path}: target column {pre['target']!r}",
                               np.arange(y.shape[0]) if rows is None else rows)
        return y
    texts = ([_label_text(v) for v in values.tolist()] if values.dtype.kind in "biuf"
             else [str(v) for v in values.tolist()])
    index = {label: i for i, label in enumerate(pre["classes"])}
    unknown = sorted(set(texts) - set(index))
    if unknown:
        raise CLIError(f"{path}: target column {pre['target']!r} holds labels {unknown[:5]} "
                       f"that the model never saw; known labels: {pre['classes']}")
    return np.array([index[t] for t in texts], dtype=np.int64)
