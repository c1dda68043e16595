"""LBFGS against torch.optim.LBFGS (no line search), float64, on a small tanh network."""

import numpy as np
import pytest
import torch

import ffnn


def _fit(lib, options, steps, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([[1.5], [-2.0], [0.5]]) + 0.3 + 0.1 * np.sin(3 * X[:, :1])
    Xt, yt = lib.tensor(X), lib.tensor(y)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1)).double()
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(np.linspace(-0.5, 0.5, p.numel()).reshape(tuple(p.shape))))
    optimizer = lib.optim.LBFGS(model.parameters(), **options)
    calls = []

    def closure():
        optimizer.zero_grad()
        loss = lib.nn.functional.mse_loss(model(Xt), yt)
        loss.backward()
        calls.append(1)
        return loss

    losses = [optimizer.step(closure).item() for _ in range(steps)]
    params = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    state = optimizer.state[next(iter(model.parameters()))]
    return losses, params, len(calls), state["n_iter"], state["func_evals"]


@pytest.mark.parametrize("options", [
    dict(),
    dict(lr=0.8, max_iter=15, history_size=5),
    dict(lr=0.5, max_iter=4, max_eval=3),
    dict(lr=1.0, max_iter=50, tolerance_change=1e-3),
    dict(lr=1.0, tolerance_grad=10.0),
])
def test_lbfgs_follows_torch(options):
    ours, theirs = _fit(ffnn, options, 3), _fit(torch, options, 3)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-7)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-8)
    assert ours[2:] == theirs[2:]  # closure calls, iterations, function evaluations


def test_lbfgs_refuses_what_it_does_not_do():
    params = [ffnn.nn.Parameter(ffnn.ones(2))]
    with pytest.raises(NotImplementedError, match="line_search_fn='strong_wolfe'"):
        ffnn.optim.LBFGS(params, line_search_fn="strong_wolfe")
    with pytest.raises(RuntimeError, match="needs a closure"):
        ffnn.optim.LBFGS(params).step()
