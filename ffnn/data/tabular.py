"""``TabularPreprocessor``: raw table columns (numbers with gaps, text categories) → the float
matrix a ``TabularModel`` or an MLP takes. Fitted on the training rows only; its
``state_dict()`` is JSON, so checkpoints carry it.

Per column, decided in ``fit``:

- numeric: missing cells (NaN, inf) → the training median, plus a 0/1 ``<column>_na``
  indicator column when the column had gaps in training; then standardised,
  z = (x - mean) / std with the training mean and std.
- categorical (text columns, and those named in ``categorical``): category indices
  0 = other (seen fewer than ``min_frequency`` times in training, or never), 1 = missing,
  2 + k = the k-th frequent training category (sorted). A column with at most ``onehot_max``
  indices in use is one-hot encoded (a 0/1 column per index used in training; an index
  unused in training gives all zeros); a wider one is an embedding column holding the
  index, looked up by ``TabularModel``, of size ``embedding_dim(cardinality)``.

Output: ``X [n, num_continuous + len(cardinalities)]`` float32: continuous columns first
(scaled numbers, indicators, one-hot), then one index column per embedded categorical.
"""

from __future__ import annotations

import math

import numpy as np

from ffnn.data.table import TableError, num_rows, table_from_frame

MISSING_MODES = ("impute", "drop", "error")
OTHER, MISSING, FIRST = 0, 1, 2


def embedding_dim(cardinality: int) -> int:
    """Embedding width for a column with ``cardinality`` indices: min(32, round(1.6·n^0.56))
    (fast.ai's rule of thumb, capped), at least 2."""
    return int(max(2, min(32, round(1.6 * cardinality ** 0.56))))


def category_text(value) -> str | None:
    """A cell as category text: whole numbers without '.0' (3.0 → '3'), None for missing."""
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return None
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value).strip()


def _as_table(data) -> dict[str, np.ndarray]:
    """A ``{name: 1-D column}`` dict; columns of different lengths are a ValueError."""
    if not (isinstance(data, dict) and all(isinstance(v, np.ndarray) for v in data.values())):
        data = table_from_frame(data)
    lengths = {name: np.shape(values)[0] if np.ndim(values) else None
               for name, values in data.items()}
    if len(set(lengths.values())) > 1 or any(np.ndim(v) != 1 for v in data.values()):
        raise ValueError("TabularPreprocessor: a table's columns must be 1-D and of one length. "
                         f"Received: lengths {lengths}")
    return data


def _row(rows: np.ndarray | None, i: int) -> int:
    """The 1-based row of the table of the ``i``-th cell taken (``rows``: the rows taken)."""
    return (i if rows is None else int(rows[i])) + 1


def _numbers(values: np.ndarray, name: str, where: str, rows=None) -> np.ndarray:
    """A column as float64 (NaN for missing); a text cell that is not a number is an error
    naming its row (``rows``: the table rows ``values`` were taken from)."""
    if values.dtype.kind in "biuf":
        return values.astype(np.float64, copy=False)
    out = np.full(values.shape[0], np.nan)
    for i, v in enumerate(values.tolist()):  # a loop over one column's cells
        if v is None:
            continue
        try:
            out[i] = float(v)
        except ValueError:
            raise TableError(f"{where}row {_row(rows, i)}, column {name!r}: cannot convert "
                             f"{v!r} to a number (the column was numeric in training)") from None
    return out


def _stray_text(values: np.ndarray) -> tuple[list[tuple[int, str]], int]:
    """(row, text) of the cells that are not numbers, and the count of present cells."""
    present, bad = 0, []
    for i, v in enumerate(values.tolist()):  # a loop over one column's cells
        if v is None:
            continue
        present += 1
        try:
            float(v)
        except ValueError:
            bad.append((i, v))
    return bad, present


def check_stray_text(table: dict[str, np.ndarray], categorical=(), source: str = ""
                   ) -> dict[str, np.ndarray]:
    """The table, checked: a text column of mostly numbers with at most 3 distinct other
    texts (a stray marker such as '?', or a typo) is an error naming the first such cell,
    unless it is ``categorical``. (A text column of numbers only stays text: the file
    quoted it.)"""
    where = f"{source}: " if source else ""
    out = dict(table)
    for name, values in table.items():
        stray = None if name in categorical else stray_text_cell(values)
        if stray is not None:
            row, text = stray
            raise TableError(
                f"{where}row {row + 1}, column {name!r}: cannot convert {text!r} to a number, "
                "and the column is otherwise numeric: if it marks a missing value list it in "
                "data.na_values (na_values=), or name the column in data.categorical to treat "
                "it as categories")
    return out


def stray_text_cell(values: np.ndarray) -> tuple[int, str] | None:
    """(row, text) of the first stray text of a text column of mostly numbers with at most 3
    distinct other texts (``check_stray_text``'s rule), or None."""
    if values.dtype.kind in "biuf":
        return None
    bad, present = _stray_text(values)
    if bad and len({v for _, v in bad}) <= 3 and 2 * len(bad) < present:
        return bad[0]
    return None


FLAT = 1e-6
"""A numeric column whose middle half (the 25th to 75th percentile) spans less than this
fraction of its std is flattened by outliers: scaled, its values differ in the 7th digit at
most, where float32 ends (a 1e308 among values near 1; scikit-learn would give the column an
infinite variance, with overflow warnings)."""

class TabularPreprocessor:
    """Missing values, categories and scaling of a raw table, fitted on training rows.

    categorical: columns to treat as categories even if numeric (e.g. integer codes).
    missing: 'impute' (median + indicator; a 'missing' category), 'drop' (the caller drops
    rows with gaps, see ``complete_rows``; gaps met later are imputed) or 'error'.
    onehot_max: one-hot up to this many category indices, embeddings above.
    min_frequency: training categories seen fewer times go to the 'other' index.
    """

    def __init__(self, categorical=(), missing: str = "impute", onehot_max: int = 32,
                 min_frequency: int = 2):
        if missing not in MISSING_MODES:
            raise ValueError(f"TabularPreprocessor: missing must be one of {list(MISSING_MODES)}."
                             f" Received: missing={missing!r}")
        if int(onehot_max) < 0 or int(min_frequency) < 1:
            raise ValueError("TabularPreprocessor: onehot_max must be >= 0 and min_frequency "
                             f">= 1. Received: onehot_max={onehot_max}, "
                             f"min_frequency={min_frequency}")
        self.categorical = [str(c) for c in categorical]
        self.missing, self.onehot_max = missing, int(onehot_max)
        self.min_frequency = int(min_frequency)
        self.columns: list[dict] = []
        self.filled: dict[str, int] = {}

    # ----- fitting ----------------------------------------------------------------------
    def fit(self, table, source: str = "", rows: np.ndarray | None = None
            ) -> TabularPreprocessor:
        """Learn each column's kind, fill values, scale and categories from ``table``
        (a ``{name: column}`` dict from ``read_table``, or a pandas DataFrame); ``rows``:
        only these rows (the training rows), taken one column at a time. A numeric column
        that outliers flatten (see ``FLAT``) is a TableError naming the largest one's row."""
        table = _as_table(table)
        where = f"{source}: " if source else ""
        unknown = [c for c in self.categorical if c not in table]
        if unknown:
            raise ValueError(f"TabularPreprocessor: categorical columns {unknown} are not in the "
                             f"table. Columns: {list(table)}")
        table = check_stray_text(table, self.categorical, source)
        if (num_rows(table) if rows is None else len(rows)) == 0:
            raise ValueError(f"{where}no rows to fit the preprocessing on")
        self.columns = []
        for name, values in table.items():
            values = values if rows is None else values[rows]
            if self.missing == "error":
                _refuse_missing(values, name, where, rows)
            if name in self.categorical or values.dtype.kind not in "biuf":
                self.columns.append(self._fit_categorical(name, values))
            else:
                self.columns.append(self._fit_numeric(name, values, where, rows))
        return self

    def _fit_numeric(self, name: str, values: np.ndarray, where: str = "", rows=None) -> dict:
        x = values.astype(np.float64, copy=False)
        ok = np.isfinite(x)
        seen = x[ok]
        median = float(np.median(seen)) if seen.size else 0.0
        filled = np.where(ok, x, median)
        scale = float(np.abs(filled).max()) if filled.size else 0.0
        unit = filled / scale if scale > 0 else filled  # (x / s)² cannot overflow
        mean, std = scale * float(unit.mean()) if scale > 0 else 0.0, \
            scale * float(unit.std()) if scale > 0 else 0.0
        _refuse_flattening(filled, name, std, where, rows)
        return {"name": name, "kind": "numeric", "median": median, "mean": mean,
                "std": std if std > 0 and math.isfinite(std) else 1.0,
                "indicator": bool(self.missing == "impute" and not ok.all())}

    def _fit_categorical(self, name: str, values: np.ndarray) -> dict:
        texts = [category_text(v) for v in values.tolist()]
        counts: dict[str, int] = {}
        for t in texts:  # a loop over one column's cells
            if t is not None:
                counts[t] = counts.get(t, 0) + 1
        categories = sorted(c for c, n in counts.items() if n >= self.min_frequency)
        column = {"name": name, "kind": "categorical", "categories": categories}
        index = self._indices(column, texts)
        used = sorted(int(i) for i in np.unique(index))
        cardinality = FIRST + len(categories)
        if len(used) <= self.onehot_max:
            column.update(encoding="onehot", onehot=used)
        else:
            column.update(encoding="embedding", cardinality=cardinality,
                          embedding_dim=embedding_dim(cardinality))
        return column

    @staticmethod
    def _indices(column: dict, texts: list) -> np.ndarray:
        lookup = {c: FIRST + k for k, c in enumerate(column["categories"])}
        return np.array([MISSING if t is None else lookup.get(t, OTHER) for t in texts],
                        dtype=np.int64)

    # ----- applying ---------------------------------------------------------------------
    def transform(self, table, source: str = "", rows: np.ndarray | None = None
                  ) -> np.ndarray:
        """X [n, num_continuous + len(cardinalities)] float32; columns are matched by name;
        ``rows``: only these rows. ``self.filled`` then counts the cells filled per column."""
        self._check_fitted()
        table = _as_table(table)
        where = f"{source}: " if source else ""
        absent = [c["name"] for c in self.columns if c["name"] not in table]
        if absent:
            raise ValueError(f"{where}columns {absent} are missing; the preprocessing was fitted "
                             f"on {self.feature_names}. Received: {list(table)}")
        n = num_rows(table) if rows is None else len(rows)
        out = np.empty((n, self.num_continuous + len(self.cardinalities)), dtype=np.float32)
        self.filled = {}
        at, emb = 0, self.num_continuous
        for column in self.columns:
            values = table[column["name"]]
            values = values if rows is None else values[rows]
            if self.missing == "error":
                _refuse_missing(values, column["name"], where, rows)
            if column["kind"] == "numeric":
                at = self._put_numeric(column, values, out, at, where, rows)
                continue
            texts = [category_text(v) for v in values.tolist()]
            index = self._indices(column, texts)
            gaps = int(np.count_nonzero(index == MISSING))
            if gaps:
                self.filled[column["name"]] = gaps
            if column["encoding"] == "onehot":
                for i in column["onehot"]:
                    out[:, at] = index == i
                    at += 1
            else:
                out[:, emb] = index
                emb += 1
        return out

    def _put_numeric(self, column: dict, values, out: np.ndarray, at: int, where: str,
                     rows=None) -> int:
        x = _numbers(values, column["name"], where, rows)
        bad = ~np.isfinite(x)
        gaps = int(np.count_nonzero(bad))
        if gaps:
            self.filled[column["name"]] = gaps
            x = np.where(bad, column["median"], x)
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = (x - column["mean"]) / column["std"]
        huge = ~(np.abs(scaled) <= np.finfo(np.float32).max)
        if huge.any():
            row = int(np.argmax(huge))
            raise ValueError(f"{where}row {_row(rows, row)}, column {column['name']!r}: value "
                             f"{x[row]:g} "
                             f"is too far from the training data (mean {column['mean']:g}, std "
                             f"{column['std']:g}) to be scaled into float32. Received: "
                             f"{int(huge.sum())} such values")
        out[:, at] = scaled
        at += 1
        if column["indicator"]:
            out[:, at] = bad
            at += 1
        return at

    def fit_transform(self, table, source: str = "") -> np.ndarray:
        return self.fit(table, source).transform(table, source)

    def complete_rows(self, table) -> np.ndarray:
        """bool [n]: the rows without a missing cell in any column of ``table``."""
        table = _as_table(table)
        keep = np.ones(num_rows(table), dtype=bool)
        for values in table.values():
            if values.dtype.kind in "biuf":
                keep &= np.isfinite(values.astype(np.float64, copy=False))
            else:
                keep &= np.array([v is not None for v in values.tolist()], dtype=bool)
        return keep

    # ----- what the model needs ---------------------------------------------------------
    def _check_fitted(self) -> None:
        if not self.columns:
            raise RuntimeError("TabularPreprocessor is not fitted yet: call fit(table) first")

    @property
    def feature_names(self) -> list[str]:
        """The input columns, in the order they were fitted."""
        return [c["name"] for c in self.columns]

    @property
    def output_names(self) -> list[str]:
        """A name per output column: 'x', 'x_na', 'color=red', 'color=<other>', 'city' …"""
        names, embedded = [], []
        for c in self.columns:
            if c["kind"] == "numeric":
                names += [c["name"]] + ([f"{c['name']}_na"] if c["indicator"] else [])
            elif c["encoding"] == "onehot":
                labels = ["<other>", "<missing>", *c["categories"]]
                names += [f"{c['name']}={labels[i]}" for i in c["onehot"]]
            else:
                embedded.append(c["name"])
        return names + embedded

    @property
    def num_continuous(self) -> int:
        """Columns before the embedding index columns."""
        total = 0
        for c in self.columns:
            if c["kind"] == "numeric":
                total += 1 + int(c["indicator"])
            elif c["encoding"] == "onehot":
                total += len(c["onehot"])
        return total

    @property
    def cardinalities(self) -> list[int]:
        """Number of indices of each embedded column (rows of its embedding table)."""
        return [c["cardinality"] for c in self.columns if c.get("encoding") == "embedding"]

    @property
    def embedding_dims(self) -> list[int]:
        return [c["embedding_dim"] for c in self.columns if c.get("encoding") == "embedding"]

    # ----- saving -----------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything fitted, as JSON-able values."""
        return {"categorical": list(self.categorical), "missing": self.missing,
                "onehot_max": self.onehot_max, "min_frequency": self.min_frequency,
                "columns": [dict(c) for c in self.columns]}

    def load_state_dict(self, state: dict) -> TabularPreprocessor:
        try:
            self.__init__(state.get("categorical", ()), state["missing"], state["onehot_max"],
                          state["min_frequency"])
            self.columns = [dict(c) for c in state["columns"]]
            for c in self.columns:
                c["name"], c["kind"]  # noqa: B018 - every column names itself and its kind
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"TabularPreprocessor.load_state_dict: malformed state ({error!r})"
                             ) from None
        return self

    @classmethod
    def from_state_dict(cls, state: dict) -> TabularPreprocessor:
        return cls().load_state_dict(state)

    def __repr__(self) -> str:
        if not self.columns:
            return "TabularPreprocessor(not fitted)"
        kinds = [c.get("encoding", "numeric") for c in self.columns]
        return (f"TabularPreprocessor({kinds.count('numeric')} numeric, {kinds.count('onehot')}"
                f" one-hot, {kinds.count('embedding')} embedded columns → "
                f"{self.num_continuous} continuous + {len(self.cardinalities)} index columns)")


def _refuse_flattening(x: np.ndarray, name: str, std: float, where: str, rows) -> None:
    """TableError where outliers set the std of column ``name`` (values ``x``, no gaps) so
    far above the spread of its middle half that its other values scale to one number."""
    q1, q3 = np.percentile(x, [25, 75]) if x.size else (0.0, 0.0)
    if 0 < q3 - q1 < FLAT * std:
        i = int(np.argmax(np.abs(x)))
        raise TableError(
            f"{where}row {_row(rows, i)}, column {name!r} holds {x[i]:g}, an outlier that sets "
            f"the column's scale (std {std:.3g}) while its middle half spans {q1:g} to {q3:g}: "
            "scaled, those values would all be one number and the feature would carry no "
            "information. Fix or clip the cell, rescale the column (e.g. its logarithm), list "
            "the cell in data.na_values (na_values=) if it marks a missing value, or leave the "
            "column out of data.features")


def _refuse_missing(values: np.ndarray, name: str, where: str, rows=None) -> None:
    if values.dtype.kind in "biuf":
        bad = ~np.isfinite(values.astype(np.float64, copy=False))
    else:
        bad = np.array([v is None for v in values.tolist()], dtype=bool)
    if bad.any():
        row = _row(rows, int(np.argmax(bad)))
        raise TableError(f"{where}row {row}, column {name!r} is empty (missing value; "
                         f"{int(bad.sum())} in this column). data.missing = 'error'; use "
                         "'impute' (the default) or 'drop' to train with gaps")
