"""Estimator → ffnn checkpoint → fine-tune with ffnn → estimator again."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError

import ffnn
from ffnn import nn, optim
from ffnn.sklearn import FFNNClassifier, FFNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def iris_named():
    X, y = load_iris(return_X_y=True)
    return X, np.array(["setosa", "versicolor", "virginica"])[y]


def test_classifier_round_trip(tmp_path, iris_named):
    X, y = iris_named
    clf = FFNNClassifier((8, 6), activation="silu", batch_norm=True, dropout=0.1,
                         standardize=True, max_iter=20, random_state=0).fit(X, y)
    path = tmp_path / "clf.safetensors"
    clf.to_checkpoint(path)
    back = FFNNClassifier.from_checkpoint(path)
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(back.classes_, clf.classes_)
    assert back.get_params() == clf.get_params()
    assert back.loss_curve_ == clf.loss_curve_ and back.n_iter_ == clf.n_iter_
    np.testing.assert_array_equal(back.scaler_.mean_, clf.scaler_.mean_)
    back.partial_fit(X, y)  # training continues (with a fresh optimizer)
    assert len(back.loss_curve_) == 21


def test_regressor_round_trip(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 3))
    reg = FFNNRegressor((5,), max_iter=4, dtype="float64", random_state=0).fit(X, X[:, 0])
    reg.to_checkpoint(tmp_path / "reg.safetensors")
    back = FFNNRegressor.from_checkpoint(tmp_path / "reg.safetensors")
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    assert back.predict(X).shape == (40,)
    assert back.coefs_[0].dtype == np.float64


def test_fine_tune_with_ffnn_and_back(tmp_path, iris_named):
    X, y = iris_named
    clf = FFNNClassifier((16,), standardize=True, max_iter=5, random_state=0).fit(X, y)
    clf.to_checkpoint(tmp_path / "a.safetensors")

    checkpoint = ffnn.load(tmp_path / "a.safetensors")
    model, scaler = checkpoint.model, checkpoint.scaler
    inputs = ffnn.tensor(scaler.transform(X).astype(np.float32))
    labels = ffnn.tensor(np.searchsorted(clf.classes_, y))
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for _ in range(20):
        opt.zero_grad()
        nn.functional.cross_entropy(model(inputs), labels).backward()
        opt.step()
    ffnn.save(tmp_path / "b.safetensors", model, scaler=scaler, metadata=checkpoint.metadata)

    tuned = FFNNClassifier.from_checkpoint(tmp_path / "b.safetensors")
    model.eval()
    with ffnn.no_grad():
        expected = nn.functional.softmax(model(inputs), dim=1).numpy()
    np.testing.assert_allclose(tuned.predict_proba(X), expected, rtol=1e-5, atol=1e-6)
    assert tuned.score(X, y) > clf.score(X, y)


def test_from_checkpoint_errors(tmp_path, iris_named):
    X, y = iris_named
    clf = FFNNClassifier((4,), max_iter=1).fit(X, y)
    clf.to_checkpoint(tmp_path / "c.safetensors")
    with pytest.raises(ValueError, match=r"holds a FFNNClassifier, not a FFNNRegressor; use "
                                         r"FFNNClassifier.from_checkpoint\(path\)"):
        FFNNRegressor.from_checkpoint(tmp_path / "c.safetensors")
    ffnn.save(tmp_path / "plain.safetensors", nn.Sequential(nn.Linear(4, 3)))
    with pytest.raises(ValueError, match=r"holds no scikit-learn estimator metadata"):
        FFNNClassifier.from_checkpoint(tmp_path / "plain.safetensors")
    with pytest.raises(NotFittedError, match="FFNNClassifier instance is not fitted yet"):
        FFNNClassifier().to_checkpoint(tmp_path / "d.safetensors")
