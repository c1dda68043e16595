"""The estimators' loss, penalty and update steps replayed in PyTorch (float64).

Each test fits once (one epoch, to get non-trivial weights W₀), then continues with
``warm_start`` for one more epoch of unshuffled minibatches; the same epoch is replayed in
torch from W₀ and the weights and the reported loss must agree to 1e-10.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from ffnn.sklearn import FFNNClassifier, FFNNRegressor

N, D = 30, 4


def _torch_model(estimator) -> torch.nn.Sequential:
    layers = []
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    for i, (w, b) in enumerate(zip(coefs, intercepts)):
        linear = torch.nn.Linear(*w.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(b.copy()))
        layers.append(linear)
        if i < len(coefs) - 1:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def _torch_loss(kind, out, target, w):
    """Weighted mean of per-sample losses, w normalised to sum 1."""
    if kind == "multiclass":
        per_sample = torch.nn.functional.cross_entropy(out, target, reduction="none")
    elif kind == "multilabel":
        per_sample = torch.nn.functional.binary_cross_entropy_with_logits(
            out, target, reduction="none").sum(1)
    else:
        per_sample = 0.5 * ((out - target) ** 2).mean(1)
    return (per_sample * w).sum()


def _data(kind, rng):
    X = rng.normal(size=(N, D))
    if kind == "multiclass":
        return X, rng.integers(0, 3, N)
    if kind == "multilabel":
        return X, rng.integers(0, 2, (N, 2))
    return X, rng.normal(size=(N, 2))


def _replay(estimator, kind, X, y, sample_weight, batch_size):
    """One torch epoch from the estimator's current weights; returns (model, mean loss)."""
    model = _torch_model(estimator)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    biases = [m.bias for m in model if isinstance(m, torch.nn.Linear)]
    alpha, lr = estimator.alpha, estimator.learning_rate_init
    if estimator.solver == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=estimator.momentum,
                              nesterov=estimator.nesterovs_momentum)
    elif estimator.solver == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        opt = torch.optim.AdamW([{"params": weights, "weight_decay": alpha},
                                 {"params": biases, "weight_decay": 0.0}], lr=lr)
    if kind == "multiclass":
        target = torch.from_numpy(np.searchsorted(estimator.classes_, y))
    else:
        target = torch.from_numpy(np.asarray(y, dtype=np.float64))
    sw = np.ones(N) if sample_weight is None else sample_weight
    total = 0.0
    for start in range(0, N, batch_size):
        rows = slice(start, start + batch_size)
        w = torch.from_numpy(sw[rows])
        opt.zero_grad()
        out = model(torch.from_numpy(X[rows]))
        loss = _torch_loss(kind, out, target[rows], w / w.sum())
        if estimator.solver != "adamw":
            loss = loss + 0.5 * alpha * sum((p ** 2).sum() for p in weights) / w.sum()
        loss.backward()
        opt.step()
        total += loss.item() * len(w)
    return model, total / N


@pytest.mark.parametrize("kind", ["multiclass", "multilabel", "regression"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_epoch_matches_torch(kind, solver, weighted, rng):
    X, y = _data(kind, rng)
    sample_weight = rng.uniform(0.5, 2.0, N) if weighted else None
    cls = FFNNRegressor if kind == "regression" else FFNNClassifier
    estimator = cls(hidden_layer_sizes=(6, 5), activation="tanh", solver=solver, alpha=0.3,
                    learning_rate_init=0.05, max_iter=1, batch_size=12, shuffle=False,
                    dtype="float64", random_state=0, momentum=0.7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y, sample_weight=sample_weight)
        model, expected_loss = _replay(estimator, kind, X, y, sample_weight, 12)
        estimator.set_params(warm_start=True).fit(X, y, sample_weight=sample_weight)
    torch_linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    for ours, theirs in zip(estimator.coefs_, torch_linears):
        np.testing.assert_allclose(ours, theirs.weight.detach().numpy().T, rtol=1e-10,
                                   atol=1e-12)
    for ours, theirs in zip(estimator.intercepts_, torch_linears):
        np.testing.assert_allclose(ours, theirs.bias.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert estimator.loss_curve_[-1] == pytest.approx(expected_loss, rel=1e-10)


def test_class_weight_is_a_sample_weight(rng):
    """class_weight={c: w_c} trains exactly as sample_weight = w_{y_i}."""
    X, y = _data("multiclass", rng)
    weights = {0: 2.0, 1: 0.5, 2: 1.5}
    params = dict(hidden_layer_sizes=(5,), max_iter=3, dtype="float64", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = FFNNClassifier(class_weight=weights, **params).fit(X, y)
        b = FFNNClassifier(**params).fit(X, y, sample_weight=np.vectorize(weights.get)(y))
    for wa, wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(wa, wb)


def test_balanced_class_weight(rng):
    """'balanced' weights n / (n_classes · count_c), as scikit-learn's compute_class_weight."""
    from sklearn.utils.class_weight import compute_sample_weight

    X = rng.normal(size=(40, 3))
    y = np.array([0] * 30 + [1] * 10)
    params = dict(hidden_layer_sizes=(4,), max_iter=2, dtype="float64", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = FFNNClassifier(class_weight="balanced", **params).fit(X, y)
        b = FFNNClassifier(**params).fit(X, y, sample_weight=compute_sample_weight("balanced", y))
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)
