"""Real data: scikit-learn's bundled sets (lazy import) and ``load_csv`` (csv module, no pandas).

Every loader returns numpy arrays: X float32 by default (``dtype=``), y int64 for
classification and float32 (or ``dtype``) for regression.
"""

from __future__ import annotations

import csv
import difflib
import math
import os
from dataclasses import dataclass, field

import numpy as np

from ffnn import dtypes


@dataclass
class Bunch:
    """A loaded data set: X [n, d], y [n], column names and (classification) class names."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_names: list[str] | None
    task: str
    description: str = field(default="", repr=False)

    def __iter__(self):  # so ``X, y = load_iris()`` works
        return iter((self.X, self.y))

    def __repr__(self) -> str:
        return (f"Bunch(X: {self.X.shape} {self.X.dtype}, y: {self.y.shape} {self.y.dtype}, "
                f"task={self.task!r}, {len(self.feature_names)} features, "
                f"target_names={self.target_names})")


def _sklearn_datasets():
    try:
        from sklearn import datasets
    except ImportError as err:
        raise ImportError("The bundled data sets need scikit-learn: pip install ffnn[all]") from err
    return datasets


def _load(name: str, task: str, dtype, return_X_y: bool):
    raw = getattr(_sklearn_datasets(), name)()
    x_dtype = dtypes.to_dtype(dtype)
    if x_dtype.kind != "f":
        raise ValueError(f"{name}: dtype must be a floating dtype. Received: dtype={dtype!r}")
    X = np.ascontiguousarray(raw.data, dtype=x_dtype)
    y = np.asarray(raw.target, dtype=np.int64 if task == "classification" else x_dtype)
    if return_X_y:
        return X, y
    target_names = getattr(raw, "target_names", None) if task == "classification" else None
    return Bunch(X=X, y=y, feature_names=[str(f) for f in raw.feature_names],
                 target_names=None if target_names is None else [str(t) for t in target_names],
                 task=task, description=str(raw.get("DESCR", "")))


def load_digits(dtype=dtypes.float32, return_X_y: bool = False) -> Bunch:
    """8x8 handwritten digits: X [1797, 64] (pixel values 0..16), y [1797] in 0..9."""
    return _load("load_digits", "classification", dtype, return_X_y)


def load_breast_cancer(dtype=dtypes.float32, return_X_y: bool = False) -> Bunch:
    """Wisconsin breast cancer: X [569, 30], y [569] in {0: malignant, 1: benign}."""
    return _load("load_breast_cancer", "classification", dtype, return_X_y)


def load_iris(dtype=dtypes.float32, return_X_y: bool = False) -> Bunch:
    """Iris flowers: X [150, 4], y [150] in 0..2."""
    return _load("load_iris", "classification", dtype, return_X_y)


def load_wine(dtype=dtypes.float32, return_X_y: bool = False) -> Bunch:
    """Wine cultivars: X [178, 13], y [178] in 0..2."""
    return _load("load_wine", "classification", dtype, return_X_y)


def load_diabetes(dtype=dtypes.float32, return_X_y: bool = False) -> Bunch:
    """Diabetes progression (regression): X [442, 10] (scaled), y [442] float."""
    return _load("load_diabetes", "regression", dtype, return_X_y)


def infer_task(y, max_classes: int = 20) -> str:
    """'classification' or 'regression' for targets ``y``.

    Rule: strings, bools or other non-numeric labels -> classification; integer-valued
    numbers (integer dtype, or floats that are all whole numbers) with at most
    ``max_classes`` distinct values -> classification; everything else -> regression.
    2-D ``y`` with more than one column is regression unless it is one-hot (0/1 rows
    summing to 1).
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        one_hot = y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all() and (y.sum(1) == 1).all()
        return "classification" if one_hot else "regression"
    y = y.reshape(-1)
    if y.dtype.kind not in "iuf":
        return "classification"
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        return "regression"
    return "classification" if np.unique(y).size <= max_classes else "regression"


@dataclass
class CSVData:
    """A CSV file as arrays: X [n, d], y [n] (None without a target), names, class labels.

    ``classes`` is the sorted list of label strings when the target column is non-numeric
    (``y`` then holds indices into it, int64), else None.
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_name: str | None
    classes: list[str] | None

    def __iter__(self):
        return iter((self.X, self.y))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _column_index(header: list[str], name: str, role: str, path: str) -> int:
    if name in header:
        return header.index(name)
    close = difflib.get_close_matches(name, header, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"load_csv({path!r}): {role} column {name!r} not found.{hint} "
                     f"Columns: {header}")


def _parse_float(text: str, row: int, column: str, path: str) -> float:
    cell = text.strip()
    if cell == "":
        raise ValueError(f"load_csv({path!r}): row {row}, column {column!r} is empty "
                         "(missing value)")
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"load_csv({path!r}): row {row}, column {column!r}: cannot convert "
                         f"{text!r} to a number") from None
    if not math.isfinite(value):
        raise ValueError(f"load_csv({path!r}): row {row}, column {column!r}: value {text!r} is "
                         "not finite (NaN/inf count as missing)")
    return value


def load_csv(path: str | os.PathLike, target: str | None, features: list[str] | None = None,
             dtype=dtypes.float32, delimiter: str = ",") -> CSVData:
    """Read a numeric CSV with a header row into ``CSVData``.

    ``target``: target column name (None: no target). ``features``: feature columns (default:
    all others, in file order). Rows are numbered from 1 (the first row after the header).
    Raises FileNotFoundError, or ValueError naming the file and the row/column at fault.
    """
    path = os.fspath(path)
    x_dtype = dtypes.to_dtype(dtype)
    if x_dtype.kind != "f":
        raise ValueError(f"load_csv: dtype must be a floating dtype. Received: dtype={dtype!r}")
    from ffnn.data.table import _check_file, _check_kind, _decode_error, header_problem

    _check_file(path)
    _check_kind(path, None)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f, delimiter=delimiter) if any(c.strip() for c in r)]
    except UnicodeDecodeError as error:
        raise _decode_error(path, error, "utf-8-sig") from None
    if not rows:
        raise ValueError(f"load_csv({path!r}): the file is empty; a header row is required")
    header = [c.strip() for c in rows[0]]
    problem = header_problem(header)
    if problem:
        raise ValueError(f"load_csv({path!r}): {problem}")
    target_col = None if target is None else _column_index(header, target, "target", path)
    if features is None:
        feature_cols = [i for i in range(len(header)) if i != target_col]
    else:
        feature_cols = [_column_index(header, name, "feature", path) for name in features]
        if target_col is not None and target_col in feature_cols:
            raise ValueError(f"load_csv({path!r}): the target column {target!r} is also listed "
                             f"in features. Received: features={features}")
    data = rows[1:]
    if not data:
        raise ValueError(f"load_csv({path!r}): the file has a header but no data rows. "
                         "Received: 0 rows")
    for r, cells in enumerate(data, start=1):
        if len(cells) != len(header):
            what = "missing" if len(cells) < len(header) else "extra"
            col = header[len(cells)] if len(cells) < len(header) else f"#{len(header) + 1}"
            raise ValueError(f"load_csv({path!r}): row {r} has {len(cells)} cells but the header "
                             f"has {len(header)} columns ({what} value at column {col!r})")
    X = np.array([[_parse_float(cells[c], r, header[c], path) for c in feature_cols]
                  for r, cells in enumerate(data, start=1)], dtype=x_dtype)
    X = X.reshape(len(data), len(feature_cols))
    y, classes = None, None
    if target_col is not None:
        y, classes = _parse_target([cells[target_col] for cells in data], target, x_dtype, path)
    return CSVData(X=X, y=y, feature_names=[header[c] for c in feature_cols],
                   target_name=target, classes=classes)


def _parse_target(cells: list[str], name: str, x_dtype, path: str):
    """Numeric targets -> int64 (all whole-number text) or float; text labels -> indices."""
    from ffnn.data.table import NA_VALUES

    values = [c.strip() for c in cells]
    for r, v in enumerate(values, start=1):
        if v in NA_VALUES:
            raise ValueError(f"load_csv({path!r}): row {r}, column {name!r} is "
                             f"{'empty' if v == '' else repr(v)} (missing value; read the file "
                             "with ffnn.data.read_table to keep the other rows)")
    if all(_is_number(v) for v in values):
        numbers = [_parse_float(v, r, name, path) for r, v in enumerate(values, start=1)]
        if all(v.lstrip("+-").isdigit() for v in values):
            return np.array([int(v) for v in values], dtype=np.int64), None
        return np.array(numbers, dtype=x_dtype), None
    classes = sorted(set(values))
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v] for v in values], dtype=np.int64), classes
