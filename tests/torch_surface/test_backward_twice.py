"""A second ``backward()`` without ``retain_graph`` against torch: it runs through ops that
saved no tensor (additions, sums, reshapes, slices, casts, a user Function without
``save_for_backward``) and raises torch's error where an op needs a freed saved tensor."""

import numpy as np
import pytest
import torch

import ffnn

ALLOWED = {
    "x + 1": lambda lib, x: (x + 1).sum(),
    "x.sum()": lambda lib, x: x.sum(),
    "x - x": lambda lib, x: (x - x).sum(),
    "x.mean()": lambda lib, x: x.mean(),
    "-x": lambda lib, x: (-x).sum(),
    "x.view": lambda lib, x: x.view(3, 1).sum(),
    "x[1:]": lambda lib, x: x[1:].sum(),
    "reshape then t()": lambda lib, x: x.reshape(1, 3).t().sum(),
    "cat": lambda lib, x: lib.cat([x, x]).sum(),
    "expand": lambda lib, x: x.expand(2, 3).sum(),
    "unsqueeze then sum(0)": lambda lib, x: x.unsqueeze(0).sum(0).sum(),
    "float()": lambda lib, x: x.float().sum(),
    "clone": lambda lib, x: x.clone().sum(),
}
REFUSED = {
    "x * 2": lambda lib, x: (x * 2).sum(),
    "x * x": lambda lib, x: (x * x).sum(),
    "x / 2": lambda lib, x: (x / 2).sum(),
    "x.exp()": lambda lib, x: x.exp().sum(),
    "x.relu()": lambda lib, x: x.relu().sum(),
    "x ** 2": lambda lib, x: (x ** 2).sum(),
    "x + x * 2": lambda lib, x: (x + x * 2).sum(),
    "linear": lambda lib, x: lib.nn.functional.linear(x, lib.ones(2, 3, dtype=lib.float64)).sum(),
}


def _twice(lib, expression):
    x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
    y = expression(lib, x)
    y.backward()
    y.backward()
    return x.grad.numpy()


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_second_backward_through_ops_without_saved_tensors(name):
    np.testing.assert_array_equal(_twice(ffnn, ALLOWED[name]), _twice(torch, ALLOWED[name]))


def test_second_backward_runs_or_raises_as_torchs():
    """Every expression of both tables: the allowed ones give torch's accumulated gradient,
    the ones needing a freed saved tensor raise torch's error."""
    for name in sorted(ALLOWED) + sorted(REFUSED):
        outcomes = []
        for lib in (ffnn, torch):
            try:
                outcomes.append(_twice(lib, {**ALLOWED, **REFUSED}[name]).tolist())
            except RuntimeError as error:
                assert "backward through the graph a second time" in str(error)
                outcomes.append("raised")
        assert outcomes[0] == outcomes[1], name


def test_retain_graph_still_allows_any_second_backward():
    """retain_graph=True as before; then a plain second backward through the sum and the
    exp-of-product graph: the sum runs again, the product raises (as torch)."""
    for lib in (ffnn, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = (x * x).exp().sum()
        y.backward(retain_graph=True)
        y.backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * 2 * np.array([1.0, 2.0]) * np.exp(
            [1.0, 4.0]), rtol=1e-12)
        total = (x + 1).sum()
        total.backward(retain_graph=False)
        total.backward()
        with pytest.raises(RuntimeError, match="a second time"):
            y.backward()


def test_the_same_intermediate_summed_twice():
    """``y = x + 1`` reused by two backward calls, as torch (the brief's ``y.sum()`` twice)."""
    grads = []
    for lib in (ffnn, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x + 1
        y.sum().backward()
        y.sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_user_function_without_saved_tensors_runs_twice():
    results = []
    for lib in (ffnn, torch):
        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = Twice.apply(x).sum()
        y.backward()
        y.backward()
        results.append(x.grad.numpy())
        z = Square.apply(x).sum()
        z.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            z.backward()
    np.testing.assert_array_equal(*results)
