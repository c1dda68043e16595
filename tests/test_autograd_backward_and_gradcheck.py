"""torch's ``autograd.backward`` (several roots in one walk), ``autograd.gradcheck`` and
``autograd.gradgradcheck`` in ffnn, each run beside torch's on the same program."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ffnn
from ffnn.ops.elementwise import Exp
from tests.helpers import assert_close

BOTH = pytest.mark.parametrize("lib", [ffnn, torch], ids=["ffnn", "torch"])
A, B = np.array([0.3, -1.2, 2.0]), np.array([0.7, 0.1, -0.4])


def several_roots(lib, **options) -> tuple:
    """backward of three roots (a shared intermediate, a leaf among them); the hook on ``a``
    sees one gradient, the sum."""
    a, b = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
    seen = []
    a.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
    h = (a * b).sin()
    lib.autograd.backward([h.sum(), (h * h * a).sum(), b],
                          [None, lib.tensor(2.0, dtype=lib.float64), lib.tensor(B * 3.0)],
                          **options)
    return a, b, seen


def test_backward_of_several_roots_sums_them_in_one_walk_as_torch():
    ours, theirs = several_roots(ffnn), several_roots(torch)
    for x, y in zip(ours[:2], theirs[:2]):
        assert_close(x.grad, y.grad.numpy())
    assert len(ours[2]) == len(theirs[2]) == 1
    assert_close(ours[2][0], theirs[2][0])


def with_graph_and_inputs(lib) -> list:
    """``create_graph=True`` (then the gradient of the gradient) and ``inputs``."""
    a, _, _ = several_roots(lib, create_graph=True)
    (second,) = lib.autograd.grad((a.grad * a.grad).sum(), a)
    x, y = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
    lib.autograd.backward([(x * y).sum(), (x * y * y).sum()], inputs=[y])
    assert x.grad is None
    return [a.grad.detach().numpy(), second.numpy(), y.grad.numpy()]


def test_backward_create_graph_and_inputs_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on create_graph's reference cycle
        expected = with_graph_and_inputs(torch)
    for ours, theirs in zip(with_graph_and_inputs(ffnn), expected):
        assert_close(ours, theirs)


@BOTH
def test_backward_forms_and_errors_as_torch(lib):
    a = lib.tensor(A, requires_grad=True)
    lib.autograd.backward(a * 2.0, lib.tensor(B))  # one tensor, one gradient
    lib.autograd.backward([(a * a).sum()])  # a sequence, gradient implied
    assert_close(a.grad, 2.0 * B + 2.0 * A)
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        lib.autograd.backward([a.sum(), a.sum()], [None])
    with pytest.raises(RuntimeError, match="element 1 of tensors does not require grad"):
        lib.autograd.backward([a.sum(), lib.tensor(B)])


@BOTH
def test_a_leaf_root_gradient_is_not_shared_with_the_given_tensor(lib):
    a, b = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
    given = lib.tensor(B)
    lib.autograd.backward([a, b.sum()], [given, None])
    given.mul_(10.0)
    assert_close(a.grad, B)


def wrong_square(lib):
    """x² whose backward says 2.1 x."""

    class WrongSquare(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x * 2.1

    return WrongSquare


def inputs(lib) -> tuple:
    x = lib.tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    y = lib.tensor(np.array([0.5, -1.5]), requires_grad=True)
    return x, y, 2.0


def two_outputs(x, y, scale):
    return (x.tanh() * y * scale, (x.exp() * y).sum())


@BOTH
def test_gradcheck_passes_a_right_function_and_catches_a_wrong_one_as_torch(lib):
    assert lib.autograd.gradcheck(two_outputs, inputs(lib)) is True
    x = inputs(lib)[0]
    wrong = wrong_square(lib).apply
    error = ffnn.autograd.GradcheckError if lib is ffnn else \
        torch.autograd.gradcheck.__globals__["GradcheckError"]
    with pytest.raises(error, match="Jacobian mismatch for output 0 with respect to input 0"):
        lib.autograd.gradcheck(wrong, x)
    assert lib.autograd.gradcheck(wrong, (x,), raise_exception=False) is False
    assert issubclass(error, RuntimeError)


@BOTH
def test_gradcheck_warns_for_float32_and_refuses_no_input_with_grad_as_torch(lib):
    x32 = lib.tensor(A, dtype=lib.float32, requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double"):
        lib.autograd.gradcheck(lambda x: x * 3.0, x32, atol=1e-2, raise_exception=False)
    with pytest.raises(ValueError, match="none of them have requires_grad=True"):
        lib.autograd.gradcheck(lambda x: x.exp(), lib.tensor(A))


def test_gradcheck_of_a_non_contiguous_input_leaves_it_and_its_grad_unchanged():
    base = np.random.default_rng(1).standard_normal((2, 3))
    x = ffnn.tensor(base).t().detach().requires_grad_()  # a leaf on a transposed array
    assert not x.numpy().flags.c_contiguous
    assert ffnn.autograd.gradcheck(lambda x: (x @ x.T).sin(), x)
    assert_close(x, base.T)
    assert x.grad is None


def exp_with_wrong_second_derivative(lib):
    """eˣ whose backward is right but computed with an op whose own backward is wrong
    (dL/dx of the gradient off by 10%)."""

    class WrongExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y * 1.1

    return WrongExp


@BOTH
def test_gradgradcheck_passes_right_second_derivatives_and_catches_wrong_ones(lib, monkeypatch):
    assert lib.autograd.gradgradcheck(two_outputs, inputs(lib)) is True
    x = inputs(lib)[0]
    wrong_exp = exp_with_wrong_second_derivative(lib)
    if lib is ffnn:  # ffnn's exp differentiates its gradient with the wrong op
        monkeypatch.setattr(Exp, "backward_graph",
                            lambda self, grad, x: (grad * wrong_exp.apply(x),))
        function = ffnn.exp
    else:
        class TorchExp(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x.exp()

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * wrong_exp.apply(x)

        function = TorchExp.apply
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert lib.autograd.gradcheck(function, x) is True  # the first derivative is right
        assert lib.autograd.gradgradcheck(function, x, raise_exception=False) is False
