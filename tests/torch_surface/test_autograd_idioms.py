"""Autograd idioms of PyTorch programs, against torch: grad-mode decorators on generator
functions, ``max()`` of an input holding NaN, the functional activations' ``inplace=True``,
``zero_`` / ``fill_`` / ``copy_`` on part of an activation, a custom ``Function`` with an
index or a Python value among its outputs, ``once_differentiable``, ``relu_`` and the
inference-mode flag."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn


def _generator_modes(lib):
    w = lib.ones(2, requires_grad=True)

    @lib.no_grad()
    def batches():
        for i in range(2):
            yield w * i

    @lib.enable_grad()
    def tracked():
        yield w * 2

    with lib.no_grad():
        inside = [b.requires_grad for b in tracked()]
    return [b.requires_grad for b in batches()], inside, lib.is_grad_enabled()


def test_grad_mode_decorators_hold_inside_a_generator_as_torchs():
    assert _generator_modes(ffnn) == _generator_modes(torch) == ([False, False], [True], True)


def test_a_decorated_generator_receives_what_is_sent_and_returns_its_value():
    @ffnn.inference_mode()
    def echo():
        received = yield ffnn.ones(1, requires_grad=True) * 2
        yield received
        return "done"

    gen = echo()
    assert not next(gen).requires_grad
    assert gen.send(5) == 5
    with pytest.raises(StopIteration, match="done"):
        next(gen)


def _nan_extremes(lib):
    grads = []
    for name in ("max", "min", "amax", "amin"):
        x = lib.tensor([[1.0, float("nan")], [3.0, float("nan")]], requires_grad=True)
        getattr(x, name)().backward()
        grads.append(x.grad.tolist())
    return grads


def test_max_of_an_input_holding_nan_sends_the_gradient_to_the_nans_as_torch():
    ours, theirs = _nan_extremes(ffnn), _nan_extremes(torch)
    np.testing.assert_array_equal(ours, theirs)  # max()/min(): halves at the NaNs; amax: NaN


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "hardtanh", "silu", "selu",
                                  "relu6"])
def test_functional_inplace_writes_the_input_and_returns_it_as_torch(name):
    results = []
    for lib in (ffnn, torch):
        functional = lib.nn.functional
        y = lib.tensor([-1.0, 0.5, 2.0])
        out = getattr(functional, name)(y, inplace=True)
        x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        h = x * 2
        getattr(functional, name)(h, inplace=True)
        (h * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        results.append((out is y, y.tolist(), x.grad.tolist()))
    np.testing.assert_allclose(results[0][1:], results[1][1:], rtol=1e-6)
    assert results[0][0] and results[1][0]


def _overwritten(lib, how):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64, requires_grad=True)
    s = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
    y = x * 1
    if how == "zero_ of a row":
        y[0].zero_()
    elif how == "fill_ of a column":
        y[:, 1].fill_(7.0)
    elif how == "copy_ into a row":
        y[0].copy_(lib.tensor([9.0, 9.0], dtype=lib.float64))
    elif how == "fill_ by a tensor":
        y.fill_(s)
    elif how == "zero_ of the whole":
        y.zero_()
    (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
    return y.tolist(), y.requires_grad, x.grad.tolist(), None if s.grad is None else s.item()


@pytest.mark.parametrize("how", ["zero_ of a row", "fill_ of a column", "copy_ into a row",
                                 "fill_ by a tensor", "zero_ of the whole"])
def test_overwriting_part_of_an_activation_stops_its_gradient_as_torch(how):
    ours = _overwritten(ffnn, how)
    theirs = _overwritten(torch, how)
    assert ours[:3] == theirs[:3]
    assert (ours[3] is None) == (theirs[3] is None)
    if how == "fill_ by a tensor":
        assert theirs[3] is not None and ours[3] == pytest.approx(theirs[3])


def _function_with_other_outputs(lib):
    seen = []

    class SortValues(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, order = x.sort()
            ctx.save_for_backward(order)
            ctx.mark_non_differentiable(order)
            return values, order

        @staticmethod
        def backward(ctx, grad_values, grad_order):
            seen.append((str(grad_order.dtype).replace("torch.", ""), grad_order.tolist()))
            (order,) = ctx.saved_tensors
            grad = lib.zeros_like(grad_values)
            grad[order] = grad_values
            return grad

    class WithCount(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 5

        @staticmethod
        def backward(ctx, grad, grad_count):
            seen.append(grad_count)
            return grad * 2

    x = lib.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, order = SortValues.apply(x)
    (values * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
    first = x.grad.tolist()
    x.grad = None
    doubled, count = WithCount.apply(x)
    doubled.sum().backward()
    return seen, first, x.grad.tolist(), count, order.requires_grad


def test_a_function_gets_a_gradient_per_output_zeros_for_an_index_none_for_a_value():
    assert _function_with_other_outputs(ffnn) == _function_with_other_outputs(torch)


def test_once_differentiable_relu_and_the_inference_flag_as_torchs():
    from ffnn.autograd.function import once_differentiable

    class Cube(ffnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x ** 2

    x = ffnn.tensor([2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    assert x.grad.tolist() == [12.0]
    for lib in (ffnn, torch):
        t = lib.tensor([-1.0, 2.0])
        assert lib.relu_(t) is t and t.tolist() == [0.0, 2.0]
        with lib.inference_mode():
            assert lib.is_inference_mode_enabled()
        assert not lib.is_inference_mode_enabled()
        assert isinstance(t.dtype, lib.dtype)
        assert lib.manual_seed(3) is lib.default_generator
    assert ffnn.manual_seed(-1).initial_seed() == torch.manual_seed(-1).initial_seed()


def _inference_flags(lib):
    x = lib.ones(3, requires_grad=True)
    layer = lib.nn.Linear(3, 2)
    with lib.inference_mode():
        made = [x * 2, lib.tensor([1.0]), layer(x), lib.zeros(2).argmax()]
        with lib.inference_mode(False):
            made.append(x * 2)
    with lib.no_grad():
        made.append(x * 2)
    made += [x * 2, x]
    return [t.is_inference() for t in made]


def test_tensors_made_in_inference_mode_are_inference_tensors():
    assert _inference_flags(ffnn) == _inference_flags(torch)
