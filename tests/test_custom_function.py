"""``ffnn.autograd.Function`` written as PyTorch programs write it, ``autograd.grad`` and the grad
modes; each compared with the same code run in torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close


def _make_functions(lib):
    """The same user code, written once against ``lib`` (torch or ffnn)."""

    class MyReLU(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return input.clamp(min=0)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            grad_input = grad_output.clone()
            grad_input[input < 0] = 0
            return grad_input

    class Legendre3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input**3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            (input,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input**2 - 1)

    class ScaledMul(lib.autograd.Function):
        """Two tensor inputs and a constant; gradients only where needed."""

        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            grad_a = grad * b * ctx.scale if ctx.needs_input_grad[0] else None
            grad_b = grad * a * ctx.scale if ctx.needs_input_grad[1] else None
            return grad_a, grad_b, None

    class SplitHalves(lib.autograd.Function):
        """Two outputs, in torch 2's style (forward without ctx, then setup_context)."""

        @staticmethod
        def forward(x):
            n = x.shape[0] // 2
            return x[:n] * 2, x[n:].exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, grad_first, grad_second):
            (x,) = ctx.saved_tensors
            n = x.shape[0] // 2
            return lib.cat([grad_first * 2, grad_second * x[n:].exp()])

    return MyReLU, Legendre3, ScaledMul, SplitHalves


def _run(lib, program, arrays):
    leaves = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = program(lib, _make_functions(lib), *leaves)
    out.backward()
    return out.item(), [t.grad.numpy() for t in leaves]


@pytest.mark.parametrize("program", [
    lambda lib, fns, x, w: fns[0].apply(x @ w).pow(2).sum(),
    lambda lib, fns, x, w: fns[1].apply(x @ w).sum(),
    lambda lib, fns, x, w: fns[2].apply(x @ w, (x @ w).tanh(), 0.5).sum(),
    lambda lib, fns, x, w: sum(o.sum() for o in fns[3].apply((x @ w).reshape(-1))),
], ids=["relu", "legendre", "two-inputs", "two-outputs"])
def test_custom_functions_match_torch(program):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((3, 2))]
    ours, theirs = _run(ffnn, program, arrays), _run(torch, program, arrays)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-10)
    for a, b in zip(ours[1], theirs[1]):
        assert_close(a, b)


def test_custom_function_passes_finite_differences_and_needs_input_grad():
    my_relu, legendre, scaled_mul, _ = _make_functions(ffnn)
    x = ffnn.tensor(np.array([0.3, -0.7, 1.2]), requires_grad=True)
    assert ffnn.gradcheck(lambda t: legendre.apply(t), [x])
    a = ffnn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = ffnn.tensor(np.array([3.0, 4.0]))  # needs no gradient: backward must not compute one
    scaled_mul.apply(a, b, 2.0).sum().backward()
    assert a.grad.tolist() == [6.0, 8.0] and b.grad is None
    with ffnn.no_grad():
        out = legendre.apply(x)
    assert not out.requires_grad and out.grad_fn is None


def test_saved_tensor_changed_in_place_raises_as_torch():
    for lib in (ffnn, torch):
        _, legendre, _, _ = _make_functions(lib)
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        h = x * 1.0
        y = legendre.apply(h)
        h.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_wrong_number_of_gradients_is_an_error():
    class Bad(ffnn.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return grad

    a, b = (ffnn.tensor([1.0], requires_grad=True) for _ in range(2))
    with pytest.raises(RuntimeError, match="incorrect number of gradients.*expected 2, got 1"):
        Bad.apply(a, b).sum().backward()


def test_autograd_grad_matches_torch_and_leaves_grad_untouched():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 3)), rng.standard_normal(3)]
    results = {}
    for lib in (ffnn, torch):
        w, b = (lib.tensor(a.copy(), requires_grad=True) for a in arrays)
        h = (w @ b).tanh()
        loss = (h * h).sum() + w.sum()
        grads = lib.autograd.grad(loss, [w, h], retain_graph=True)
        (gb,) = lib.autograd.grad(loss, b)
        assert w.grad is None and b.grad is None
        results[lib.__name__] = [g.numpy() for g in (*grads, gb)]
    for a, b in zip(results["ffnn"], results["torch"]):
        assert_close(a, b)
    x, unused = ffnn.tensor([1.0], requires_grad=True), ffnn.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        ffnn.autograd.grad((x * 2).sum(), [x, unused])
    assert ffnn.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None


def test_grad_modes_as_context_managers_and_decorators():
    x = ffnn.tensor([1.0], requires_grad=True)
    with ffnn.inference_mode():
        assert not (x * 2).requires_grad
    with ffnn.no_grad(), ffnn.enable_grad():
        assert (x * 2).requires_grad
    with ffnn.set_grad_enabled(False):
        assert not (x * 2).requires_grad

    @ffnn.no_grad
    def bare(t):
        return t * 2

    @ffnn.inference_mode()
    def called(t):
        return t * 2

    @ffnn.set_grad_enabled(False)
    def decorated(t):
        return t * 2

    assert ffnn.is_grad_enabled(), "decorating must not change the mode"
    assert not bare(x).requires_grad and not called(x).requires_grad
    assert not decorated(x).requires_grad and (x * 2).requires_grad
    v = ffnn.autograd.Variable(ffnn.tensor([1.0, 2.0]), requires_grad=True)
    assert isinstance(v, ffnn.Tensor) and v.requires_grad


def _in_place_function(lib, mark: bool):
    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            if mark:
                ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    return AddOne


def test_mark_dirty_makes_the_input_the_output_as_torch():
    """``ctx.mark_dirty(x)`` after an in-place forward: the output is x itself, its version
    bumped, and what is computed from x afterwards goes back through ``backward`` (without
    mark_dirty: a new output, x's own graph unchanged)."""
    for mark in (True, False):
        seen = []
        for lib in (ffnn, torch):
            a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
            b = a.clone()
            c = _in_place_function(lib, mark).apply(b)
            (b * 2).sum().backward() if mark else (c * 2).sum().backward()
            seen.append((c is b, b._version, b.tolist(), a.grad.tolist()))
        assert seen[0] == seen[1]


def test_mark_dirty_on_a_leaf_that_requires_grad_raises_as_torch():
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            _in_place_function(lib, True).apply(lib.ones(2, requires_grad=True))


def _two_outputs(lib, received: list):
    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, materialize):
            ctx.set_materialize_grads(materialize)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            received.append((None if g1 is None else g1.tolist(),
                             None if g2 is None else g2.tolist()))
            return (0 if g1 is None else g1 * 2) + (0 if g2 is None else g2 * 3), None

    return Two


def test_set_materialize_grads_false_hands_backward_none_for_unused_outputs():
    seen = {}
    for lib in (ffnn, torch):
        received, grads = [], []
        two = _two_outputs(lib, received)
        for materialize in (False, True):
            for used in (0, 1):
                x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
                two.apply(x, materialize)[used].sum().backward()
                grads.append(x.grad.tolist())
        seen[lib.__name__] = (received, grads)
    assert seen["ffnn"] == seen["torch"]


def test_apply_takes_keyword_arguments_as_torch():
    results = []
    for lib in (ffnn, torch):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale=2.0):
                ctx.scale = scale
                return x * scale

            @staticmethod
            def backward(ctx, grad):
                return grad * ctx.scale, None

        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = Scale.apply(x, scale=3.0) + Scale.apply(x=x)
        y.sum().backward()
        results.append((y.tolist(), x.grad.tolist()))
    assert results[0] == results[1]
