"""Metrics against scikit-learn's as the oracle, on random labels, scores and values."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from ffnn.train import metrics


@pytest.fixture
def labels(rng):
    y_true = rng.integers(0, 5, size=200)
    scores = rng.random((200, 5))
    scores[np.arange(200), y_true] += rng.random(200)  # better than chance
    return y_true, scores


def test_accuracy_from_labels_and_scores(labels):
    y_true, scores = labels
    y_pred = scores.argmax(1)
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert metrics.accuracy(y_true, scores) == pytest.approx(skm.accuracy_score(y_true, y_pred))


def test_accuracy_binary_probabilities(rng):
    y_true = rng.integers(0, 2, size=100)
    p = rng.random((100, 1))
    expected = skm.accuracy_score(y_true, (p[:, 0] > 0.5).astype(int))
    assert metrics.accuracy(y_true, p) == pytest.approx(expected)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_top_k_accuracy(labels, k):
    y_true, scores = labels
    expected = skm.top_k_accuracy_score(y_true, scores, k=k, labels=np.arange(5))
    assert metrics.top_k_accuracy(y_true, scores, k=k) == pytest.approx(expected)


@pytest.mark.parametrize("name,ours", [("precision_score", metrics.precision),
                                       ("recall_score", metrics.recall),
                                       ("f1_score", metrics.f1_score)])
def test_macro_scores(labels, name, ours):
    y_true, scores = labels
    y_pred = scores.argmax(1)
    y_pred[:30] = 4  # an over-predicted class
    sk = getattr(skm, name)
    assert ours(y_true, y_pred) == pytest.approx(sk(y_true, y_pred, average="macro"))
    np.testing.assert_allclose(ours(y_true, y_pred, average=None),
                               sk(y_true, y_pred, average=None))


def test_macro_scores_with_a_never_predicted_class():
    y_true = np.array([0, 1, 2, 2, 1, 0])
    y_pred = np.array([0, 1, 1, 1, 1, 0])  # class 2 never predicted: precision 0 by convention
    for ours, sk in [(metrics.precision, skm.precision_score), (metrics.recall, skm.recall_score),
                     (metrics.f1_score, skm.f1_score)]:
        assert ours(y_true, y_pred) == pytest.approx(
            sk(y_true, y_pred, average="macro", zero_division=0))


def test_confusion_matrix(labels):
    y_true, scores = labels
    y_pred = scores.argmax(1)
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred),
                                  skm.confusion_matrix(y_true, y_pred))
    np.testing.assert_array_equal(metrics.confusion_matrix([0, 2], [2, 2], num_classes=4),
                                  skm.confusion_matrix([0, 2], [2, 2], labels=[0, 1, 2, 3]))


@pytest.mark.parametrize("shape", [(50,), (50, 3)])
def test_regression_metrics(rng, shape):
    y_true = rng.normal(size=shape)
    y_pred = y_true + rng.normal(scale=0.5, size=shape)
    assert metrics.mean_squared_error(y_true, y_pred) == pytest.approx(
        skm.mean_squared_error(y_true, y_pred))
    assert metrics.mean_absolute_error(y_true, y_pred) == pytest.approx(
        skm.mean_absolute_error(y_true, y_pred))
    assert metrics.r2_score(y_true, y_pred) == pytest.approx(skm.r2_score(y_true, y_pred))


def test_r2_accepts_column_predictions_and_constant_targets(rng):
    y_true = rng.normal(size=40)
    y_pred = (y_true + 0.1)[:, None]
    assert metrics.r2_score(y_true, y_pred) == pytest.approx(skm.r2_score(y_true, y_pred[:, 0]))
    assert metrics.r2_score(np.ones(4), np.ones(4)) == 1.0
    assert metrics.r2_score(np.ones(4), np.zeros(4)) == skm.r2_score(np.ones(4), np.zeros(4))


def test_metric_names():
    assert metrics.get_metric("accuracy").fn is metrics.accuracy
    assert metrics.get_metric("f1").greater_is_better
    assert not metrics.get_metric("mse").greater_is_better
    top3 = metrics.get_metric("top3_accuracy")
    scores = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    assert top3(np.array([0, 0]), scores) == 0.5
    assert metrics.greater_is_better("val_loss") is False
    assert metrics.greater_is_better("val_accuracy") is True
    assert metrics.greater_is_better("something") is None


def test_bad_metric_inputs_are_named():
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'.*Received: metric='acuracy'"):
        metrics.get_metric("acuracy")
    with pytest.raises(TypeError, match="Received: metric=3"):
        metrics.get_metric(3)
    with pytest.raises(ValueError, match="Received: y_true with shape \\(3,\\), y_pred with "):
        metrics.accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="k must be a positive integer. Received: k=0"):
        metrics.top_k_accuracy([0], [[0.2, 0.8]], k=0)
    with pytest.raises(ValueError, match="average must be 'macro' or None.*average='micro'"):
        metrics.precision([0, 1], [0, 1], average="micro")
