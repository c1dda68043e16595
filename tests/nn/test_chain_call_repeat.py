"""The one-node call of a Sequential (ffnn.nn.chain_call) takes its last call's resolution
again, without checking every layer's parameters and options anew, only while that
resolution holds: whatever changed between two calls (a parameter, its array, an option, the
input's shape, dtype, layout or ``requires_grad``, the compiled kernels switched off), the
second call computes what the layers run one by one compute, or raises what they raise."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn
from ffnn.nn import chain_call


def _make():
    ffnn.manual_seed(7)
    return nn.Sequential(nn.Linear(5, 6), nn.LeakyReLU(0.1), nn.Linear(6, 4), nn.Tanh(),
                         nn.Dropout(0.25), nn.Linear(4, 3)).double()


_SEEDED = ffnn.manual_seed(11).get_state()


def _input(rows: int = 8, dtype="float64", requires_grad: bool = False, order: str = "C"):
    data = np.random.default_rng(rows).standard_normal((rows, 5)).astype(dtype)
    return ffnn.tensor(np.asarray(data, order=order), requires_grad=requires_grad)


def _outcome(model, x):
    """(output, every .grad, dL/dx) of a forward and backward, or (error type, message)."""
    model.zero_grad()
    if x.grad is not None:
        x.grad = None
    ffnn.set_rng_state(_SEEDED)  # the dropout masks; the generator object kept (its
    # replacement, by manual_seed, is a changed option of the dropout layer)
    try:
        out = model(x)
    except (ValueError, RuntimeError, TypeError) as error:
        return type(error), str(error)
    out.sum().backward()
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    return out.detach().numpy(), grads, None if x.grad is None else x.grad.numpy().copy()


def _assert_same(found, expected):
    assert len(found) == len(expected)
    if isinstance(found[0], type) or isinstance(expected[0], type):
        assert found == expected
        return
    np.testing.assert_allclose(found[0], expected[0], rtol=1e-12, atol=1e-14)
    for grad, reference in zip(found[1], expected[1]):
        assert (grad is None) == (reference is None)
        if grad is not None:
            np.testing.assert_allclose(grad, reference, rtol=1e-12, atol=1e-14)
    assert (found[2] is None) == (expected[2] is None)
    if found[2] is not None:
        np.testing.assert_allclose(found[2], expected[2], rtol=1e-12, atol=1e-14)


def _replace_weight(model, x):
    model[2].weight = nn.Parameter(ffnn.randn(4, 6, dtype=ffnn.float64))
    return x


def _replace_array(model, x):
    model[0].weight.data = ffnn.randn(6, 5, dtype=ffnn.float64)
    return x


def _drop_bias(model, x):
    model[5].bias = None
    return x


def _weight_of_another_shape(model, x):
    model[2].weight = nn.Parameter(ffnn.randn(4, 7, dtype=ffnn.float64))
    return x


def _slope(model, x):
    model[1].negative_slope = 0.7
    return x


def _dropout_eval(model, x):
    model[4].eval()
    return x


def _dropout_p(model, x):
    model[4].p = 0.6
    return x


CHANGES = {
    "a weight replaced": _replace_weight,
    "a weight's array replaced": _replace_array,
    "a bias taken away": _drop_bias,
    "a weight of another shape": _weight_of_another_shape,
    "a slope changed": _slope,
    "dropout in eval mode": _dropout_eval,
    "dropout's p changed": _dropout_p,
    "fewer rows": lambda model, x: _input(rows=3),
    "float32 input": lambda model, x: _input(dtype="float32"),
    "Fortran-ordered input": lambda model, x: _input(order="F"),
    "input needing its gradient": lambda model, x: _input(requires_grad=True),
    "input of another width": lambda model, x: ffnn.randn(8, 4, dtype=ffnn.float64),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_between_two_calls_reaches_the_second(change, monkeypatch):
    results = []
    for one_node in (True, False):
        if not one_node:
            monkeypatch.setattr(chain_call, "call", lambda *a: None)
        model, x = _make(), _input()
        first = _outcome(model, x)
        x = CHANGES[change](model, x)
        results.append((first, _outcome(model, x)))
        monkeypatch.undo()
    (first, second), (reference_first, reference_second) = results
    _assert_same(first, reference_first)
    _assert_same(second, reference_second)


@pytest.mark.skipif(not accel.enabled, reason="the native chain needs numba")
def test_the_compiled_kernels_switched_off_between_two_calls(monkeypatch):
    model, x = _make(), _input()
    assert "native" in vars(model(x).grad_fn)
    monkeypatch.setattr(accel, "enabled", False)
    out = model(x)
    assert type(out.grad_fn) is chain_call.SequentialChain and "native" not in vars(out.grad_fn)


def test_an_unchanged_call_is_not_resolved_again(monkeypatch):
    model, x = _make(), _input()
    resolved = []
    real = chain_call._resolve
    monkeypatch.setattr(chain_call, "_resolve", lambda *a: resolved.append(1) or real(*a))
    outputs = [model(x).detach().numpy() for _ in range(3)]
    assert resolved == [1]
    assert not np.array_equal(outputs[0], outputs[1])  # dropout drew new masks each call
    model[1].negative_slope = 0.2
    model(x)
    assert resolved == [1, 1]
