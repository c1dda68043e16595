"""Activations against torch and finite differences; stability at |x| = 1e3, 1e4."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import ffnn
from tests.helpers import assert_close, check_op, randn, seeds, shapes, to_torch

ACTIVATIONS = {
    "relu": lambda lib, x: lib.nn.functional.relu(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "gelu_tanh": lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "softmax": lambda lib, x: lib.softmax(x, dim=-1),
    "log_softmax": lambda lib, x: lib.log_softmax(x, dim=-1),
    "softmax_dim0": lambda lib, x: lib.nn.functional.softmax(x, dim=0),
    "log_softmax_dim0": lambda lib, x: lib.nn.functional.log_softmax(x, dim=0),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(shape=shapes(1, 3), seed=seeds, scale=st.sampled_from([1.0, 4.0]))
def test_activation(name, shape, seed, scale):
    check_op(ACTIVATIONS[name], scale * randn(seed, *shape, low=0.05))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_stable_for_large_inputs(name, dtype):
    x = np.array([-1e4, -1e3, -30.0, 0.5, 30.0, 1e3, 1e4], dtype)
    ours = ffnn.tensor(x, requires_grad=True)
    theirs = to_torch(x, True)
    out, ref = ACTIVATIONS[name](ffnn, ours), ACTIVATIONS[name](__import__("torch"), theirs)
    w = np.linspace(-1, 1, x.size).astype(dtype)
    out.backward(w)
    ref.backward(to_torch(w))
    assert np.isfinite(out.data).all() and np.isfinite(ours.grad).all()
    assert_close(out.data, ref.detach().numpy(), dtype)
    assert_close(ours.grad, theirs.grad.numpy(), dtype)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="'none' or 'tanh'. Received: 'fast'"):
        ffnn.nn.functional.gelu(ffnn.zeros(2), approximate="fast")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_over_rows_with_masked_entries(name, dtype):
    """The row kernels on a 3-D batch with the entries attention masks leave (-inf, -1e30,
    one large logit): values and gradients against torch, for an input with and without
    a gradient (log softmax keeps the softmax only for the backward)."""
    import torch

    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 33, 40)) * 5
    x[0, :, 5:] = -np.inf
    x[1, 3, :-1] = -1e30
    x[2, 7, 0] = 80.0
    w = rng.standard_normal(x.shape).astype(dtype)
    ours, theirs = ffnn.tensor(x.astype(dtype), requires_grad=True), to_torch(x.astype(dtype), True)
    out = getattr(ffnn.nn.functional, name)(ours, dim=-1)
    ref = getattr(torch.nn.functional, name)(theirs, dim=-1)
    expected = ref.detach().numpy()
    np.testing.assert_array_equal(np.isneginf(out.data), np.isneginf(expected))
    finite = np.isfinite(expected)
    assert_close(out.data[finite], expected[finite], dtype)
    plain = getattr(ffnn.nn.functional, name)(ffnn.tensor(x.astype(dtype)), dim=-1)
    np.testing.assert_array_equal(plain.data, out.data)
    out.backward(w)
    ref.backward(to_torch(w))
    assert_close(ours.grad, theirs.grad.numpy(), dtype)


@pytest.mark.parametrize("shape, dim", [((3, 0), 1), ((3, 0), 0), ((0, 4), 1), ((2, 0, 5), 1),
                                        ((2, 3, 0), -1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_an_empty_input_is_empty_as_torch(name, shape, dim):
    """torch returns an empty result (and gradient); NumPy's max of no elements raises."""
    x = ffnn.zeros(*shape, requires_grad=True)
    y = getattr(ffnn.nn.functional, name)(x, dim=dim)
    y.sum().backward()
    expected = getattr(torch.nn.functional, name)(torch.zeros(*shape), dim=dim)
    assert tuple(y.shape) == tuple(expected.shape) and tuple(x.grad.shape) == shape
