"""Rejected inputs: each error names the argument, what was expected and what was received."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from ffnn.sklearn import FFNNClassifier, FFNNRegressor

X = np.random.default_rng(0).normal(size=(20, 3))
y = np.arange(20) % 2


pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("params, pattern", [
    ({"activation": "swish"}, r"'activation' parameter of FFNNClassifier must be a str among "
                              r".*'gelu'.*Got 'swish' instead"),
    ({"solver": "lbfgs"}, r"'solver' parameter .* must be a str among .*Got 'lbfgs'"),
    ({"alpha": -1.0}, r"'alpha' parameter .* range \[0(.0)?, inf\).*Got -1.0"),
    ({"dropout": 1.0}, r"'dropout' parameter .* range \[0(.0)?, 1(.0)?\).*Got 1.0"),
    ({"lr_schedule": "step"}, r"'lr_schedule' parameter .*Got 'step'"),
    ({"batch_size": 0}, r"'batch_size' parameter .*Got 0"),
    ({"dtype": "float16"}, r"'dtype' parameter .*Got 'float16'"),
    ({"class_weight": "auto"}, r"'class_weight' parameter .*Got 'auto'"),
])
def test_invalid_parameters(params, pattern):
    with pytest.raises(ValueError, match=pattern):
        FFNNClassifier(**params).fit(X, y)


def test_hidden_layer_sizes_must_be_positive():
    with pytest.raises(ValueError, match=re.escape(
            "hidden_layer_sizes must be positive integers. Received: "
            "hidden_layer_sizes=(4, 0)")):
        FFNNRegressor(hidden_layer_sizes=(4, 0)).fit(X, y)


def test_partial_fit_needs_classes_first_and_rejects_early_stopping():
    with pytest.raises(ValueError, match=r"partial_fit does not support early_stopping=True"):
        FFNNClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1])
    clf = FFNNClassifier((3,)).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=re.escape("y has labels [7] that are not in classes_ "
                                                   "[0, 1, 2]")):
        clf.partial_fit(X, np.full(20, 7))
    with pytest.raises(ValueError, match=re.escape("classes=[0, 1] is not the same as on the "
                                                   "first call, which was [0, 1, 2]")):
        clf.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"y has labels \[5\] that are not in classes=\[0, 1\]"):
        FFNNClassifier().partial_fit(X, np.full(20, 5), classes=[0, 1])


def test_warm_start_with_new_classes():
    clf = FFNNClassifier((3,), max_iter=1, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match=r"y has labels \[2\] that are not in classes_ \[0, 1\]"):
        clf.fit(X, np.arange(20) % 3)


def test_class_weight_errors():
    with pytest.raises(ValueError, match=re.escape("class_weight has label 9, which is not in "
                                                   "classes_ [0, 1]")):
        FFNNClassifier(class_weight={9: 2.0}).fit(X, y)
    Y = np.stack([y, 1 - y], axis=1)
    with pytest.raises(ValueError, match=r"class_weight is not supported for multi-label "
                                         r"targets. Received: class_weight='balanced'"):
        FFNNClassifier(class_weight="balanced").fit(X, Y)


def test_multiclass_multioutput_is_rejected():
    Y = np.stack([np.arange(20) % 3, np.arange(20) % 2], axis=1)
    with pytest.raises(ValueError, match=r"one label per sample or a multi-label indicator "
                                         r"matrix. Received: y of type 'multiclass-multioutput'"):
        FFNNClassifier().fit(X, Y)


def test_regressor_output_count_must_stay_the_same():
    reg = FFNNRegressor((3,)).partial_fit(X, np.zeros((20, 2)))
    with pytest.raises(ValueError, match=re.escape("y must have 2 output(s) as in the first "
                                                   "fit. Received: y of shape (20, 3)")):
        reg.partial_fit(X, np.zeros((20, 3)))


def test_negative_sample_weight_and_not_fitted():
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        FFNNClassifier().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(NotFittedError, match="FFNNRegressor instance is not fitted yet"):
        FFNNRegressor().predict(X)


def test_wrong_number_of_features():
    clf = FFNNClassifier((3,), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but FFNNClassifier is expecting 3"):
        clf.predict(X[:, :2])


def test_divergence_stops_with_a_clear_message_and_finite_weights():
    reg = FFNNRegressor((8,), solver="sgd", learning_rate_init=1e6, max_iter=50, alpha=0.0)
    with pytest.raises(ValueError, match=r"training diverged in epoch \d+ \(loss=(nan|inf)\); "
                                         r"the weights before that epoch are kept. Lower "
                                         r"learning_rate_init \(Received: 1000000.0\)"):
        reg.fit(X, X @ [1e3, 1e3, 1e3])
    assert all(np.isfinite(c).all() for c in reg.coefs_)


def test_small_validation_set():
    with pytest.raises(ValueError, match=r"The validation set is too small.*Received: 20 "
                                         r"samples, validation_fraction=0.05"):
        FFNNRegressor(early_stopping=True, validation_fraction=0.05).fit(X, y)


def test_coefs_setter_checks_shapes():
    clf = FFNNClassifier((3,), max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match=re.escape("coefs_ must be arrays of shapes [(3, 3), "
                                                   "(3, 2)]. Received: shapes [(3, 3)]")):
        clf.coefs_ = [np.zeros((3, 3))]
    with pytest.raises(ValueError, match=re.escape("intercepts_ must be arrays of shapes "
                                                   "[(3,), (2,)]. Received: shapes [(3,), (3,)]")):
        clf.intercepts_ = [np.zeros(3), np.zeros(3)]


def test_the_divergence_guard_restores_the_epoch_start_buffer_and_statistics():
    """FlatRollback snapshots the flat parameters and batch norm's running statistics at
    each epoch's start; a non-finite epoch loss puts both back and stops training."""
    from types import SimpleNamespace

    from ffnn import nn
    from ffnn.optim.flat import FlatParameters
    from ffnn.sklearn._core import FlatRollback

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    flat = FlatParameters(model)
    guard = FlatRollback(flat)
    guard.set_trainer(SimpleNamespace(model=model, stop_training=False))
    guard.on_train_begin()
    guard.on_epoch_begin(0)
    start = [flat.flat._data.copy(), *(b._data.copy() for b in model.buffers())]
    flat.flat._data += 1.0  # an epoch's steps
    for b in model.buffers():
        b._data += 2
    guard.on_epoch_end(0, {"loss": 0.5})
    assert not guard.trainer.stop_training  # a finite loss changes nothing
    np.testing.assert_array_equal(flat.flat._data, start[0] + 1.0)
    guard.on_epoch_begin(1)
    start = [flat.flat._data.copy(), *(b._data.copy() for b in model.buffers())]
    flat.flat._data -= 3.0
    for b in model.buffers():
        b._data += 5
    guard.on_epoch_end(1, {"loss": float("nan")})  # some batch of epoch 1 diverged
    assert guard.trainer.stop_training and guard.stopped_epoch == 1 and guard.loss != 0.5
    np.testing.assert_array_equal(flat.flat._data, start[0])
    for b, saved in zip(model.buffers(), start[1:]):
        np.testing.assert_array_equal(b._data, saved)
