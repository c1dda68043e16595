"""The estimators train through the fused step (``Trainer(compile='auto')``: one numba call
per batch over their flat parameter buffer, the L2 penalty inside it) and end where the
graph ends, to rounding (dropout's masks included); what the fused step does not take
(sample weights, AdamW's decoupled decay, batch norm) trains as before."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from ffnn import accel
from ffnn.compiler.chain import ChainStep
from ffnn.sklearn import FFNNClassifier, FFNNRegressor
from tests._fast_steps import count_fused_steps

pytestmark = [pytest.mark.skipif(not accel.available, reason="numba is not installed"),
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")]


@pytest.fixture(autouse=True)
def _kernels_on(monkeypatch):
    """The estimators take the fused step where the compiled kernels are on (also when this
    suite runs with FFNN_ACCEL=0)."""
    monkeypatch.setattr(accel, "enabled", True)


def _graph(estimator, X, y, monkeypatch, fit="fit"):
    """``estimator`` fitted through the graph (no fast step, so no fused step either)."""
    with monkeypatch.context() as patch:
        patch.setattr(ChainStep, "build", classmethod(lambda *args: None))
        return getattr(estimator, fit)(X, y)


def _assert_close(fused, graph, rtol=1e-9, atol=1e-12):
    for a, b in zip(fused.coefs_ + fused.intercepts_, graph.coefs_ + graph.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    np.testing.assert_allclose(fused.loss_curve_, graph.loss_curve_, rtol=rtol)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_classifier_fused_fit_follows_the_graph(solver, activation, monkeypatch):
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    params = dict(random_state=0, max_iter=8, batch_size=32, activation=activation,
                  solver=solver, learning_rate_init=0.01, dtype="float64",
                  hidden_layer_sizes=(12, 7), alpha=1e-2)
    calls = count_fused_steps(monkeypatch)
    fused = FFNNClassifier(**params).fit(X, y)
    assert len(calls) == 8 * 5  # every batch of every epoch (150 rows: 4 of 32, one of 22)
    _assert_close(fused, _graph(FFNNClassifier(**params), X, y, monkeypatch))


@pytest.mark.parametrize("activation", ["identity", "relu"])
def test_regressor_fused_fit_follows_the_graph(activation, monkeypatch):
    X, y = make_regression(n_samples=120, n_features=5, n_targets=2, random_state=0)
    params = dict(random_state=0, max_iter=6, batch_size=25, activation=activation,
                  dtype="float64", hidden_layer_sizes=(9,), alpha=0.1)
    calls = count_fused_steps(monkeypatch)
    fused = FFNNRegressor(**params).fit(X, y / 100)
    assert len(calls) == 6 * 5
    _assert_close(fused, _graph(FFNNRegressor(**params), X, y / 100, monkeypatch))


def test_partial_fit_continues_the_optimizer_state(monkeypatch):
    X, y = make_classification(n_samples=90, n_features=4, random_state=2)
    params = dict(random_state=0, batch_size=20, dtype="float64", hidden_layer_sizes=(6,))
    fused, graph = FFNNClassifier(**params), FFNNClassifier(**params)
    calls = count_fused_steps(monkeypatch)
    for _ in range(3):
        fused.partial_fit(X, y, classes=[0, 1])
        _graph(graph, X, y, monkeypatch, fit="partial_fit")
    assert len(calls) == 3 * 5
    _assert_close(fused, graph)


def test_float32_fused_fit_within_rounding(monkeypatch):
    X, y = make_classification(n_samples=200, n_features=8, random_state=3)
    params = dict(random_state=0, max_iter=5, hidden_layer_sizes=(16,), alpha=1e-3)
    fused = FFNNClassifier(**params).fit(X, y)
    graph = _graph(FFNNClassifier(**params), X, y, monkeypatch)
    _assert_close(fused, graph, rtol=1e-4, atol=1e-5)


def test_dropout_fused_fit_follows_the_graph(monkeypatch):
    """The fused step draws dropout's masks from the stream the graph draws them from."""
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    params = dict(random_state=0, max_iter=6, batch_size=32, dropout=0.25, dtype="float64",
                  hidden_layer_sizes=(12, 7), alpha=1e-3)
    calls = count_fused_steps(monkeypatch)
    fused = FFNNClassifier(**params).fit(X, y)
    assert len(calls) == 6 * 5
    _assert_close(fused, _graph(FFNNClassifier(**params), X, y, monkeypatch))


@pytest.mark.parametrize("case", ["sample_weight", "adamw", "batch_norm"])
def test_what_the_fused_step_does_not_take_trains_as_before(case, monkeypatch):
    X, y = make_classification(n_samples=60, n_features=4, random_state=1)
    params = {"adamw": {"solver": "adamw"}, "batch_norm": {"batch_norm": True}}.get(case, {})
    weights = {"sample_weight": np.linspace(0.5, 2.0, 60)} if case == "sample_weight" else {}
    calls = count_fused_steps(monkeypatch)
    FFNNClassifier(max_iter=2, random_state=0, **params).fit(X, y, **weights)
    assert not calls
