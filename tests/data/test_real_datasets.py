"""Bundled real data sets (scikit-learn) and infer_task."""

import sys

import numpy as np
import pytest

from ffnn.data import (
    infer_task,
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    real,
)


@pytest.mark.parametrize("loader, shape, n_classes", [
    (load_digits, (1797, 64), 10),
    (load_breast_cancer, (569, 30), 2),
    (load_iris, (150, 4), 3),
    (load_wine, (178, 13), 3),
])
def test_classification_sets(loader, shape, n_classes):
    data = loader()
    assert data.X.shape == shape and data.X.dtype == np.float32
    assert data.y.shape == (shape[0],) and data.y.dtype == np.int64
    assert set(np.unique(data.y)) == set(range(n_classes))
    assert len(data.feature_names) == shape[1] and len(data.target_names) == n_classes
    assert data.task == "classification" == infer_task(data.y)


def test_diabetes_regression_and_dtype_argument():
    data = load_diabetes()
    assert data.X.shape == (442, 10) and data.X.dtype == np.float32
    assert data.y.dtype == np.float32 and data.target_names is None
    assert data.task == "regression" == infer_task(data.y)
    X, y = load_diabetes(dtype="float64", return_X_y=True)
    assert X.dtype == np.float64 and y.dtype == np.float64


def test_values_equal_sklearn():
    from sklearn import datasets

    X, y = load_iris(dtype=np.float64)
    ref = datasets.load_iris()
    assert np.array_equal(X, ref.data) and np.array_equal(y, ref.target)


def test_missing_sklearn_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"pip install ffnn\[all\]"):
        load_iris()


def test_integer_dtype_rejected():
    with pytest.raises(ValueError, match=r"dtype must be a floating dtype. Received: "
                                         r"dtype='int64'"):
        real.load_wine(dtype="int64")


@pytest.mark.parametrize("y, task", [
    (np.array(["cat", "dog", "cat"]), "classification"),
    (np.array([True, False]), "classification"),
    (np.array([0, 1, 2, 1]), "classification"),
    (np.array([0.0, 1.0, 1.0]), "classification"),  # whole-number floats, few values
    (np.arange(100), "regression"),  # integers but too many distinct values
    (np.array([0.5, 1.2, 3.3]), "regression"),
    (np.eye(3), "classification"),  # one-hot
    (np.random.default_rng(0).random((5, 2)), "regression"),
])
def test_infer_task(y, task):
    assert infer_task(y) == task
