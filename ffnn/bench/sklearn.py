"""``bench_sklearn``: FFNNClassifier against scikit-learn's MLPClassifier, same recipe.

Digits and breast cancer (scikit-learn's bundled copies), stratified 25 % test split,
inputs standardised on the training part; both estimators get the same hidden sizes, epochs
(no early stop: ``tol=0``, ``n_iter_no_change=epochs``), batch size and Adam learning rate.
Each repeat fits both, one after the other, with seed = repeat index; the report gives
median test accuracy and median fit time (``time.perf_counter`` around ``fit``).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

DATASETS = ("digits", "breast_cancer")


def _load(name: str):
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    loaders = {"digits": datasets.load_digits, "breast_cancer": datasets.load_breast_cancer}
    if name not in loaders:
        raise ValueError(f"bench_sklearn: unknown dataset {name!r}; expected one of "
                         f"{sorted(loaders)}. Received: {name!r}")
    X, y = loaders[name](return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _timed_fit(estimator, X, y) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the epoch count is fixed
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def bench_sklearn(datasets=DATASETS, hidden_layer_sizes=(100,), epochs: int = 200,
                  batch_size: int = 200, learning_rate: float = 1e-3, repeats: int = 3) -> dict:
    """Fit both estimators ``repeats`` times per data set; returns, per data set,
    ``{"ffnn": {"accuracy", "fit_seconds", "mean_accuracy", "accuracies"}, "sklearn": {...},
    "time_ratio", "n_train", "n_test", "epochs", "repeats"}``: medians over the repeats (and
    the mean and every seed's accuracy); ``time_ratio`` = ffnn / sklearn.
    """
    from sklearn.neural_network import MLPClassifier

    from ffnn.sklearn import FFNNClassifier

    if not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"bench_sklearn: repeats must be a positive integer. Received: "
                         f"repeats={repeats!r}")
    common = dict(hidden_layer_sizes=tuple(hidden_layer_sizes), solver="adam",
                  learning_rate_init=learning_rate, batch_size=batch_size, max_iter=epochs,
                  tol=0.0, n_iter_no_change=epochs, alpha=1e-4)
    report = {}
    for name in datasets:
        X_train, X_test, y_train, y_test = _load(name)
        runs = {"ffnn": {"accuracy": [], "fit_seconds": []},
                "sklearn": {"accuracy": [], "fit_seconds": []}}
        for seed in range(repeats):
            for key, cls in (("sklearn", MLPClassifier), ("ffnn", FFNNClassifier)):
                estimator = cls(random_state=seed, **common)
                runs[key]["fit_seconds"].append(_timed_fit(estimator, X_train, y_train))
                runs[key]["accuracy"].append(float(estimator.score(X_test, y_test)))
        summary = {key: {metric: float(np.median(values)) for metric, values in run.items()}
                   for key, run in runs.items()}
        for key, run in runs.items():
            summary[key]["mean_accuracy"] = float(np.mean(run["accuracy"]))
            summary[key]["accuracies"] = run["accuracy"]
        summary["time_ratio"] = summary["ffnn"]["fit_seconds"] / summary["sklearn"]["fit_seconds"]
        summary.update(n_train=len(y_train), n_test=len(y_test), epochs=epochs, repeats=repeats)
        report[name] = summary
    return report


def format_report(report: dict) -> str:
    """The report as a small text table."""
    lines = [f"{'data set':<14} {'ffnn acc':>8} {'sk acc':>8} {'ffnn s':>8} {'sk s':>8} "
             f"{'ratio':>6}"]
    for name, row in report.items():
        lines.append(f"{name:<14} {row['ffnn']['accuracy']:8.4f} {row['sklearn']['accuracy']:8.4f} "
                     f"{row['ffnn']['fit_seconds']:8.3f} {row['sklearn']['fit_seconds']:8.3f} "
                     f"{row['time_ratio']:6.2f}")
    return "\n".join(lines)
