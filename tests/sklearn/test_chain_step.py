"""The graph-free training step (ffnn.compiler.chain.ChainStep, which the estimators get
through the Trainer where the fused step does not apply) gives what the graph gives: the
same weights and loss curve, to the bit, for every activation, both dtypes and both
estimators; networks it cannot run fall back to the graph."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from ffnn import accel, nn
from ffnn.compiler.chain import ChainStep
from ffnn.sklearn import FFNNClassifier, FFNNRegressor
from tests._fast_steps import count_fast_steps, without_fused_step

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["relu", "tanh", "logistic", "gelu", "silu", "identity"]


@pytest.fixture(params=["numpy"] + (["compiled"] if accel.available else []))
def kernels(request, monkeypatch):
    """Both sides with the compiled kernels off (the pure-NumPy ops: the reference), and on
    where numba is installed: the graph-free step is checked on its own, not through them."""
    monkeypatch.setattr(accel, "enabled", request.param == "compiled")
    return request.param


def _fit_both(cls, X, y, monkeypatch, **params):
    """(fitted with ChainStep, fitted through the graph), same seed (the fused step off:
    ``test_fused_fit`` compares it)."""
    without_fused_step(monkeypatch)
    calls = count_fast_steps(monkeypatch)
    fast = cls(random_state=0, max_iter=8, batch_size=32, **params).fit(X, y)
    fast.fast_steps = len(calls)
    with monkeypatch.context() as patch:
        patch.setattr(ChainStep, "build", classmethod(lambda *args: None))
        graph = cls(random_state=0, max_iter=8, batch_size=32, **params).fit(X, y)
    return fast, graph


def _assert_same(fast, graph):
    for a, b in zip(fast.coefs_ + fast.intercepts_, graph.coefs_ + graph.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert fast.loss_curve_ == graph.loss_curve_


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_classifier_chain_step_equals_the_graph(activation, dtype, kernels, monkeypatch):
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    fast, graph = _fit_both(FFNNClassifier, X, y, monkeypatch, activation=activation,
                            dtype=dtype, hidden_layer_sizes=(12, 7), alpha=1e-3)
    assert fast.fast_steps > 0  # the fast path ran
    _assert_same(fast, graph)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_regressor_chain_step_equals_the_graph(activation, dtype, kernels, monkeypatch):
    X, y = make_regression(n_samples=150, n_features=5, n_targets=2, random_state=0)
    fast, graph = _fit_both(FFNNRegressor, X, y / 100, monkeypatch, activation=activation,
                            dtype=dtype, hidden_layer_sizes=(9,), solver="adamw")
    assert fast.fast_steps > 0
    _assert_same(fast, graph)


def test_an_inplace_dropout_after_an_activation_or_a_misfit_batch_norm_uses_the_graph():
    loss = nn.CrossEntropyLoss()
    plain = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.1),
                          nn.Linear(4, 2))
    assert ChainStep.build(plain, loss) is not None
    for extra in (nn.Dropout(0.1, inplace=True), nn.BatchNorm1d(5)):
        model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), extra, nn.Linear(4, 2))
        assert ChainStep.build(model, loss) is None
    assert ChainStep.build(nn.Sequential(nn.ReLU(), nn.Linear(3, 2)), loss) is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimators_with_batch_norm_replay_the_graph_bit_for_bit(monkeypatch):
    """Batch norm in training mode is replayed with its running statistics updated as the
    graph updates them (the fused step does not take it: the bit-exact replay trains)."""
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    fast, graph = _fit_both(FFNNClassifier, X, y, monkeypatch, batch_norm=True,
                            hidden_layer_sizes=(12, 7), early_stopping=True)
    assert fast.fast_steps > 0
    _assert_same(fast, graph)
    for a, b in zip(fast.model_.buffers(), graph.model_.buffers()):
        np.testing.assert_array_equal(a._data, b._data)


def test_estimators_with_dropout_replay_the_graph_bit_for_bit(monkeypatch):
    """Dropout's masks come from the same stream in the chain step as in the graph."""
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    fast, graph = _fit_both(FFNNClassifier, X, y, monkeypatch, dropout=0.3,
                            hidden_layer_sizes=(12, 7))
    assert fast.fast_steps > 0
    _assert_same(fast, graph)


def test_weighted_and_multilabel_fits_use_the_graph(monkeypatch):
    X, y = make_classification(n_samples=80, n_features=5, random_state=1)
    without_fused_step(monkeypatch)
    calls = count_fast_steps(monkeypatch)
    FFNNClassifier(max_iter=2, random_state=0).fit(X, y, sample_weight=np.full(80, 2.0))
    assert not calls  # sample weights: the graph (weights 2 ≡ none, but not dropped here)
    FFNNClassifier(max_iter=2, random_state=0).fit(X, np.stack([y, 1 - y], axis=1))
    assert not calls  # several labels: BCE through the graph
    FFNNClassifier(max_iter=2, random_state=0).fit(X, y)
    assert calls
