"""The graph: diamonds, reuse, deep graphs, backward twice, no_grad, detach, accumulation,
gradient memory ownership and dtypes, each compared with torch where torch has an answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn.autograd import Op
from ffnn.gradcheck import gradcheck
from tests.helpers import assert_close, check_op


def both(fn, *arrays, backward_twice=False):
    """Run ``fn(lib, *leaves)`` in both libraries, backward (twice with retain_graph if asked)
    and compare every leaf gradient."""
    ours = [ffnn.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    for leaves, lib in ((ours, ffnn), (theirs, torch)):
        out = fn(lib, *leaves)
        out.backward(retain_graph=backward_twice)
        if backward_twice:
            out.backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad.numpy())


def test_diamond_graph():
    def fn(lib, a):
        b, c = a * 2.0, a.exp()
        return (b * c + b / c).sum()

    both(fn, np.array([0.3, -1.2, 2.0]))


def test_intermediate_used_twice():
    both(lambda lib, a: ((a + a) * a).sum(), np.array([1.0, -2.0]))
    x = ffnn.tensor([1.0, 2.0], requires_grad=True)
    (x + x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_reused_intermediates_in_several_paths():
    def fn(lib, a, w):
        h = (a @ w).tanh()
        return (h * h).sum() + h.mean() * (h.exp()).sum() - (h @ w.T).sum()

    rng = np.random.default_rng(0)
    both(fn, rng.standard_normal((3, 4)), rng.standard_normal((4, 4)))


def test_deep_graph_of_ten_thousand_ops_has_no_recursion_error():
    x = ffnn.tensor(1.0, dtype=ffnn.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000, rel=1e-9)


def test_backward_twice_without_retain_graph_raises():
    x = ffnn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="graph a second time.*retain_graph=True"):
        y.backward()


def test_backward_twice_with_retain_graph_accumulates_like_torch():
    both(lambda lib, a: (a * a.exp()).sum(), np.array([0.5, -1.0]), backward_twice=True)


def test_gradients_accumulate_on_leaves_across_backward_calls():
    a = np.array([0.5, 2.0])
    x, xt = ffnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for _ in range(2):
        (x * x).sum().backward()
        (xt * xt).sum().backward()
    assert_close(x.grad, xt.grad.numpy())
    np.testing.assert_allclose(x.grad, 4 * a)


def test_non_scalar_backward_needs_gradient():
    y = ffnn.tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match=r"non-scalar.*explicit gradient.*shape \(2,\)"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the tensor has shape"):
        y.backward(np.ones(3))


def test_non_scalar_backward_with_gradient_matches_torch():
    check_op(lambda lib, a: a * a, np.array([1.0, -3.0, 0.5]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (ffnn.tensor([1.0]) * 2.0).sum().backward()


def test_no_grad_records_no_graph():
    x = ffnn.tensor([1.0], requires_grad=True)
    with ffnn.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.grad_fn is None
    z = x * 2.0
    assert z.requires_grad and z.grad_fn is not None

    @ffnn.no_grad()
    def f(t):
        return t + 1.0

    assert not f(x).requires_grad and ffnn.is_grad_enabled()
    with ffnn.set_grad_enabled(False):
        assert not (x * 1.0).requires_grad
    assert ffnn.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = ffnn.tensor([3.0], requires_grad=True)
    y = x * x
    z = (y.detach() * x).sum()
    z.backward()
    assert x.grad.tolist() == [9.0]  # only the direct path: d/dx (const 9 · x)
    assert not y.detach().requires_grad and y.detach().numpy() is y.numpy()


def test_requires_grad_on_int_tensor_raises():
    with pytest.raises(RuntimeError, match="floating dtype.*Received: dtype=int64"):
        ffnn.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating dtype"):
        ffnn.tensor([1, 2]).requires_grad_()


def test_each_leaf_grad_owns_its_memory():
    a = ffnn.tensor([1.0, 2.0], requires_grad=True)
    b = ffnn.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 10
    assert b.grad.tolist() == [1.0, 1.0]
    # backward on a leaf with an explicit gradient: the given array is not aliased
    g = np.ones(2, np.float32)
    c = ffnn.tensor([1.0, 1.0], requires_grad=True)
    c.backward(g)
    c.grad *= 5
    assert g.tolist() == [1.0, 1.0]
    assert a.grad.numpy().flags.writeable and b.grad.numpy().flags.writeable


def test_broadcast_grads_are_writable():
    w = ffnn.tensor(np.ones(3), requires_grad=True)
    x = ffnn.tensor(np.ones((4, 3)), requires_grad=True)
    (x * w).sum().backward()
    x.grad[0, 0] = 7.0  # would fail on a read-only broadcast view
    w.grad[0] = 7.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grads_have_the_leaf_dtype(dtype):
    x = ffnn.tensor(np.ones(3, dtype), requires_grad=True)
    y = ffnn.tensor(np.ones(3, np.float64), requires_grad=True)
    (x * 3.0).sum().backward()
    assert x.grad.dtype == dtype
    (x.double() * y).sum().backward()
    assert x.grad.dtype == dtype and y.grad.dtype == np.float64


def test_leaf_and_grad_fn_flags():
    x = ffnn.tensor([1.0], requires_grad=True)
    y = x * 2.0
    assert x.is_leaf and not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_frozen_input_gets_no_grad():
    x = ffnn.tensor([1.0, 2.0])
    w = ffnn.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward()
    assert x.grad is None and w.grad.tolist() == [1.0, 2.0]


# ----- Function and gradcheck: the oracle itself must catch a wrong derivative -----------
class Cube(Op):
    """y = x³;  dL/dx = dL/dy · 3x² (or a deliberately wrong 2x² when ``wrong``)."""

    def forward(self, x, wrong=False):
        self.x, self.wrong = x, wrong
        return x**3

    def backward(self, grad):
        return (grad * (2 if self.wrong else 3) * self.x**2,)


def test_custom_function_and_gradcheck():
    x = ffnn.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    assert gradcheck(lambda t: Cube.apply(t), [x])
    with pytest.raises(AssertionError, match="gradient of input 0 differs from finite diff"):
        gradcheck(lambda t: Cube.apply(t, wrong=True), [x])
    assert not gradcheck(lambda t: Cube.apply(t, wrong=True), [x], raise_exception=False)


def test_gradcheck_needs_float64():
    x = ffnn.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="float64 inputs.*Received: input 0 of dtype float32"):
        gradcheck(lambda t: t * t, [x])


def test_needs_input_grad_reaches_the_op():
    seen = {}

    class Probe(Op):
        def forward(self, a, b):
            return a * b

        def backward(self, grad):
            seen["needs"] = self.needs_input_grad
            return None, grad

    a, b = ffnn.tensor([1.0]), ffnn.tensor([2.0], requires_grad=True)
    Probe.apply(a, b).sum().backward()
    assert seen["needs"] == (False, True) and a.grad is None and b.grad.tolist() == [1.0]


def test_backward_with_inputs_fills_only_their_grads_as_torch():
    values = {}
    for lib in (ffnn, torch):
        a = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        c = a * b
        loss = (c * c).sum() + b.sum()
        loss.backward(inputs=[a, c], retain_graph=True)
        loss.backward(inputs=b)
        values[lib] = [a.grad.numpy().copy(), b.grad.numpy().copy(), c.grad.numpy().copy()]
        with pytest.raises(RuntimeError, match="cannot be empty"):
            loss.backward(inputs=[])
    for mine, theirs in zip(values[ffnn], values[torch]):
        assert_close(mine, theirs)
