"""The estimators inside scikit-learn's tooling: Pipeline, GridSearchCV, cross_val_score,
clone, and pickle round-trips (predictions and continued training preserved)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ffnn.sklearn import FFNNClassifier, FFNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def iris():
    return load_iris(return_X_y=True)


def test_pipeline_and_cross_val_score(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), FFNNClassifier((16,), max_iter=100,
                                                          learning_rate_init=0.01,
                                                          random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_grid_search(iris):
    X, y = iris
    search = GridSearchCV(FFNNClassifier(max_iter=40, standardize=True, random_state=0),
                          {"hidden_layer_sizes": [(2,), (16,)], "learning_rate_init": [1e-4,
                                                                                       1e-2]},
                          cv=3).fit(X, y)
    assert search.best_params_ == {"hidden_layer_sizes": (16,), "learning_rate_init": 1e-2}
    assert isinstance(search.best_estimator_, FFNNClassifier)


def test_clone_gives_an_unfitted_copy_with_the_same_params(iris):
    X, y = iris
    clf = FFNNClassifier((5,), dropout=0.1, class_weight="balanced", max_iter=3).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "model_")


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_pickle_round_trip_keeps_predictions_and_training_state(iris, solver):
    X, y = iris
    clf = FFNNClassifier((8,), solver=solver, max_iter=5, standardize=True, batch_norm=True,
                         random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    # continued training from the pickle equals continued training of the original
    clf.partial_fit(X, y)
    restored.partial_fit(X, y)
    np.testing.assert_array_equal(restored.coefs_[0], clf.coefs_[0])
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_pickle_regressor():
    X = np.random.default_rng(0).normal(size=(30, 2))
    reg = FFNNRegressor((4,), max_iter=3).fit(X, X[:, 0])
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    assert restored.loss_curve_ == reg.loss_curve_
