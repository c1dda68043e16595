"""Gradients at the edges of their domains against torch, without NumPy's warnings:
``logit`` outside [0, 1] (NaN without ``eps``, 0 outside [eps, 1 - eps] with it) and
``logsumexp`` over a slice of -inf only or one holding +inf (NaN, torch's e^{x - y})."""

import numpy as np
import pytest
import torch

import ffnn

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

VALUES = [-0.5, 0.0, 1e-8, 0.3, 1.0, 1.5, float("nan"), float("inf"), -float("inf")]


def _values_and_grads(lib, run, data, dtype="float64"):
    x = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=True)
    y = run(lib, x)
    y.backward(lib.ones_like(y))
    return y.detach().numpy(), x.grad.numpy()


def _logit(eps):
    return lambda lib, x: lib.logit(x) if eps is None else lib.logit(x, eps)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logit_values_and_gradients_are_torchs(dtype):
    for eps in (None, 0.0, 1e-6, 0.2, -1.0):
        for ours, theirs in zip(_values_and_grads(ffnn, _logit(eps), VALUES, dtype),
                                _values_and_grads(torch, _logit(eps), VALUES, dtype)):
            assert ours.dtype == theirs.dtype
            np.testing.assert_allclose(ours, theirs, err_msg=f"eps={eps}",
                                       rtol=1e-6 if dtype == "float32" else 1e-12)
    _logit_second_derivative_is_torchs()


def _logit_second_derivative_is_torchs():
    grads = []
    for lib in (ffnn, torch):
        x = lib.tensor([0.2, 0.7, 1.5], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(lib.logit(x, 0.1).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        grads.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


INF = float("inf")
ROWS = {
    "a row of -inf": [[-INF, -INF], [0.0, 1.0]],
    "rows holding +inf": [[INF, 1.0], [INF, INF]],
    "a NaN": [[float("nan"), 1.0], [-INF, 2.0]],
    "finite": [[0.5, -3.0], [1e3, 1e3 - 1]],
}
REDUCTIONS = {
    "dim 1": lambda lib, x: lib.logsumexp(x, 1),
    "dim -1 keepdim": lambda lib, x: x.logsumexp(-1, keepdim=True),
    "dims (0, 1)": lambda lib, x: lib.logsumexp(x, (0, 1)),
    "dim 0": lambda lib, x: lib.logsumexp(x, dim=0),
}


@pytest.mark.parametrize("reduction", sorted(REDUCTIONS))
def test_logsumexp_values_and_gradients_are_torchs(reduction):
    run = REDUCTIONS[reduction]
    for rows in sorted(ROWS):
        for ours, theirs in zip(_values_and_grads(ffnn, run, ROWS[rows]),
                                _values_and_grads(torch, run, ROWS[rows])):
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=rows)
    _logsumexp_float32_and_second_derivative()


def _logsumexp_float32_and_second_derivative():
    results = []
    for lib in (ffnn, torch):
        x = lib.tensor([[0.1, 2.0, -1.0], [3.0, 3.0, 0.0]], dtype=lib.float64,
                       requires_grad=True)
        (g,) = lib.autograd.grad(lib.logsumexp(x, 1).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        single = lib.logsumexp(lib.tensor([[0.1, 2.0, -1.0]]), 1)
        results.append((g.detach().numpy(), gg.numpy(), single.numpy()))
        assert str(single.dtype).endswith("float32")
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
