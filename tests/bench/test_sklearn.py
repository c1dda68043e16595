"""``bench_sklearn`` runs both estimators on the same split and reports both (no timing
assertions: benchmarks live in ``ffnn bench``)."""

from __future__ import annotations

import pytest

from ffnn.bench.sklearn import bench_sklearn, format_report


def test_bench_sklearn_report_shape():
    report = bench_sklearn(datasets=("breast_cancer",), hidden_layer_sizes=(8,), epochs=5,
                           learning_rate=0.02, repeats=1)
    row = report["breast_cancer"]
    assert row["n_train"] == 426 and row["n_test"] == 143 and row["epochs"] == 5
    for key in ("ffnn", "sklearn"):
        assert 0.85 < row[key]["accuracy"] <= 1.0 and row[key]["fit_seconds"] > 0
    assert row["time_ratio"] == row["ffnn"]["fit_seconds"] / row["sklearn"]["fit_seconds"]
    assert "breast_cancer" in format_report(report)


def test_bench_sklearn_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist'.*Received: 'mnist'"):
        bench_sklearn(datasets=("mnist",), repeats=1)
    with pytest.raises(ValueError, match=r"repeats must be a positive integer. Received: "
                                         r"repeats=0"):
        bench_sklearn(repeats=0)
