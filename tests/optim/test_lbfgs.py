"""LBFGS against torch.optim.LBFGS, with and without the strong-Wolfe line search, float64:
on a small tanh network and on Rosenbrock's function (element-wise arithmetic only: the same
evaluations as torch's and the same trajectory to rounding)."""

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
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, max_iter=10, history_size=3, line_search_fn="strong_wolfe"),
    dict(max_iter=30, max_eval=12, line_search_fn="strong_wolfe"),
])
def test_lbfgs_follows_torch(options):
    ours, theirs = _fit(ffnn, options, 3), _fit(torch, options, 3)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-7)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-7)
    assert ours[2:] == theirs[2:]  # closure calls, iterations, function evaluations


def _rosenbrock(lib, start, options, steps):
    """Rosenbrock's (1 - a)² + 100 (b - a²)² from ``start``: each step's loss, the point
    after it and the function evaluations."""
    xy = lib.tensor(start, dtype=lib.float64, requires_grad=True)
    optimizer = lib.optim.LBFGS([xy], **options)

    def closure():
        optimizer.zero_grad()
        loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
        loss.backward()
        return loss

    trace = []
    for _ in range(steps):
        loss = optimizer.step(closure).item()
        trace.append((loss, *xy.detach().numpy(), optimizer.state[xy]["func_evals"]))
    return np.array(trace)


@pytest.mark.parametrize("start", [[-1.5, 2.0], [0.3, -0.8], [2.2, 2.0]])
def test_strong_wolfe_follows_torchs_trajectory_to_the_minimum(start):
    options = dict(lr=1, max_iter=8, history_size=4, line_search_fn="strong_wolfe")
    ours, theirs = _rosenbrock(ffnn, start, options, 6), _rosenbrock(torch, start, options, 6)
    np.testing.assert_array_equal(ours[:, 3], theirs[:, 3])  # function evaluations
    np.testing.assert_allclose(ours[:, :3], theirs[:, :3], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(_rosenbrock(ffnn, start, dict(options, max_iter=60), 3)[-1, 1:3],
                               [1.0, 1.0], atol=1e-4)


def test_lbfgs_refuses_what_it_does_not_do():
    params = [ffnn.nn.Parameter(ffnn.ones(2))]
    with pytest.raises(ValueError, match="line_search_fn must be None .* 'strong_wolfe'"):
        ffnn.optim.LBFGS(params, line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="needs a closure"):
        ffnn.optim.LBFGS(params).step()
