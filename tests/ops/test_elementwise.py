"""Element-wise ops with broadcasting, against torch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ffnn
from tests.helpers import check_op, randn, seeds

pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)

BINARY = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "pow": lambda lib, a, b: a.abs() ** b,
}


@pytest.mark.parametrize("name", list(BINARY))
@given(shapes=pairs, seed=seeds)
def test_binary_ops_broadcast(name, shapes, seed):
    a_shape, b_shape = shapes.input_shapes
    check_op(BINARY[name], randn(seed, *a_shape, low=0.3), randn(seed + 1, *b_shape, low=0.3))


SCALAR = {
    "radd": lambda lib, x: 2.0 + x,
    "rsub": lambda lib, x: 2.0 - x,
    "rmul": lambda lib, x: 3.0 * x,
    "rdiv": lambda lib, x: 3.0 / x,
    "rpow": lambda lib, x: 2.0**x,
    "pow_scalar": lambda lib, x: x**3,
    "pow_fraction": lambda lib, x: x.abs() ** 1.5,
    "neg": lambda lib, x: -x,
    "sub_scalar": lambda lib, x: x - 1.5,
    "div_scalar": lambda lib, x: x / 4.0,
}


@pytest.mark.parametrize("name", list(SCALAR))
@given(shape=pairs.map(lambda s: s.input_shapes[0]), seed=seeds)
def test_scalar_and_right_hand_forms(name, shape, seed):
    check_op(SCALAR[name], randn(seed, *shape, low=0.3))


UNARY = {
    "exp": lambda lib, x: x.exp(),
    "log": lambda lib, x: x.abs().log(),
    "sqrt": lambda lib, x: x.abs().sqrt(),
    "abs": lambda lib, x: x.abs(),
    "clamp": lambda lib, x: x.clamp(min=-0.5, max=0.8),
    "clamp_min": lambda lib, x: x.clamp(min=0.1),
    "clamp_max": lambda lib, x: x.clamp(max=-0.2),
    "maximum": lambda lib, x: lib.maximum(x, x * x - 1.0),
    "minimum": lambda lib, x: lib.minimum(x, x * x - 1.0),
}


@pytest.mark.parametrize("name", list(UNARY))
@given(shape=pairs.map(lambda s: s.input_shapes[0]), seed=seeds)
def test_unary_functions(name, shape, seed):
    x = randn(seed, *shape, low=0.3)
    # keep finite differences away from the kinks of clamp and maximum
    x = np.where(np.abs(np.abs(x) - 0.5) < 0.02, x + 0.05, x)
    x = np.where(np.abs(x - 0.8) < 0.02, x + 0.05, x)
    x = np.where(np.abs(x * x - 1.0 - x) < 0.05, x + 0.1, x)
    check_op(UNARY[name], x)


def test_abs_and_clamp_subgradients_match_torch():
    check_op(lambda lib, x: x.abs() + x.clamp(min=0.0, max=1.0), np.array([0.0, 1.0, -1.0, 0.5]),
             finite_differences=False)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf upstream
def test_clamp_keeps_an_infinite_gradient_out_of_clamped_entries_as_torch():
    """torch's clamp backward selects (where(mask, grad, 0)): a clamped entry gets 0 even when
    the gradient from above is inf or NaN (Pareto's mean α·x/(α - 1) at α clamped to 1)."""
    import torch

    x = np.array([0.5, 2.0, 3.0])
    for create_graph in (False, True):
        grads = []
        for lib in (ffnn, torch):
            leaf = lib.tensor(x, requires_grad=True)
            a = leaf.clamp(min=1.0)
            (g,) = lib.autograd.grad((a / (a - 1)).sum(), leaf, create_graph=create_graph)
            grads.append(g.detach().numpy())
        np.testing.assert_array_equal(*grads)


def test_tensor_operand_from_ndarray_on_the_left():
    x = ffnn.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], np.float32) * x
    assert isinstance(y, ffnn.Tensor) and y.tolist() == [3.0, 8.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]


def test_pow_zero_exponent_has_zero_gradient_at_zero():
    check_op(lambda lib, x: x**0 + x**1, np.array([0.0, 1.0, -2.0]), finite_differences=False)


def test_pow_of_tensor_exponent_at_zero_base_follows_torch():
    check_op(lambda lib, a, b: a**b, np.array([0.0, 2.0]), np.array([2.0, 3.0]),
             finite_differences=False)


def test_where_refuses_a_float_condition_as_torch():
    import torch

    x = ffnn.tensor([1.0, -2.0])
    with pytest.raises(RuntimeError, match="boolean"):
        torch.where(torch.tensor([1.0, 0.0]), torch.tensor([1.0, -2.0]), torch.zeros(2))
    with pytest.raises(RuntimeError, match=r"where expected condition to be a boolean tensor.*"
                                           r"Received: condition of dtype float32"):
        ffnn.where(ffnn.tensor([1.0, 0.0]), x, ffnn.zeros(2))
    assert ffnn.where(x > 0, x, ffnn.zeros(2)).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [2, 3, 3.0, -1, -2])
def test_integer_powers_are_torchs_products_bit_for_bit(exponent, dtype):
    """torch computes x², x³ and x⁻² as products (x·x·x, 1/(x·x)), not with ``pow``: the
    same roundings here, in the forward and the gradient (p · xᵖ⁻¹ the same way)."""
    import torch

    rng = np.random.default_rng(0)
    x = (rng.standard_normal(5000) * 7).astype(dtype)
    x[:4] = [0.0, -0.0, np.inf, -np.inf]
    grad = rng.standard_normal(5000).astype(dtype)
    ours, theirs = ffnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, expected = ours**exponent, theirs**exponent
    y.backward(ffnn.tensor(grad))
    expected.backward(torch.tensor(grad))
    np.testing.assert_array_equal(y.numpy(), expected.detach().numpy())
    if exponent != -2:  # its gradient's x⁻³ is a pow (torch's own, within an ulp of ours)
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_sign_is_torchs():
    """-1, 0 or 1, 0 for NaN (and +0 for -0), in the input's dtype; booleans stay."""
    import torch

    for values in ([3.0, -2.0, 0.0, -0.0, np.nan, np.inf, -np.inf], [3, -2, 0], [True, False]):
        ours = ffnn.tensor(values).sign()
        theirs = torch.tensor(values).sign()
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        assert ours.tolist() == theirs.tolist()
        assert np.signbit(ours.numpy()).tolist() == np.signbit(theirs.numpy()).tolist()


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_erf_and_erfc_follow_torch(name):
    """A GELU written out (0.5·x·(1 + erf(x/√2))) and the tails of erfc, with gradients."""
    x = np.concatenate([np.linspace(-6, 6, 97), [0.0, 1e-8, -3e-3, 27.0]])
    check_op(lambda lib, a: getattr(lib, name)(a) * a, x)
    check_op(lambda lib, a: getattr(a, name)(), x)
    import torch

    assert str(getattr(ffnn, name)(ffnn.tensor([1, 2])).dtype) == "float32"
    assert getattr(torch, name)(torch.tensor([1, 2])).dtype == torch.float32


ZERO_GRADIENTS = {
    "relu": lambda lib, x: lib.relu(x),
    "clamp": lambda lib, x: x.clamp(-1.0, 1.0),
    "clamp_min": lambda lib, x: x.clamp(min=0.0),
    "maximum": lambda lib, x: lib.maximum(x, lib.zeros_like(x)),
    "maximum_broadcast": lambda lib, x: lib.maximum(x, lib.tensor(0.0, dtype=x.dtype)),
    "minimum": lambda lib, x: lib.minimum(x, lib.zeros_like(x)),
    "min_of_two": lambda lib, x: lib.min(lib.tensor(0.5, dtype=x.dtype), x),
}


@pytest.mark.parametrize("pick", ["maximum", "minimum"])
def test_maximum_and_minimum_values_gradients_and_nodes_are_torchs(pick):
    """Ties split the gradient, NaN passes it to both inputs, a broadcast input sums its
    share; the node is torch's MaximumBackward0 / MinimumBackward0; bools pick as torch's."""
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, np.nan, 2.0, -1.0], [0.0, 3.0, -2.0, 2.0]])
    b = np.array([2.0, 1.0, 2.0, np.nan])
    results = []
    for lib in (torch, ffnn):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = getattr(lib, pick)(x, y)
        out.backward(lib.tensor(np.arange(8.0).reshape(2, 4) - 3))
        flags = getattr(lib, pick)(lib.tensor([True, False]), lib.tensor([False, False]))
        results.append([out.detach().numpy(), x.grad.numpy(), y.grad.numpy(),
                        out.grad_fn.name(), flags.numpy()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", list(ZERO_GRADIENTS))
def test_a_gradient_stopped_at_a_kink_is_a_positive_zero_as_torchs(name):
    """Where torch writes 0 into the gradient (relu's x ≤ 0, outside clamp's bounds, the
    smaller input of maximum), ffnn's is 0. too: a negative dL/dy times 0 was -0., which
    printed as ``tensor([-0., 1.])``; an infinite dL/dy there gives 0, not NaN."""
    torch = pytest.importorskip("torch")
    x = np.array([-2.0, 0.0, 0.5, 3.0])
    upstream = np.array([-3.0, -np.inf, 1.0, -2.0])
    grads = []
    for lib in (torch, ffnn):
        t = lib.tensor(x, requires_grad=True)
        ZERO_GRADIENTS[name](lib, t).backward(lib.tensor(upstream))
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])
    assert np.signbit(grads[1]).tolist() == np.signbit(grads[0]).tolist()


@pytest.mark.parametrize("reduce", ["max", "min", "amax", "amin"])
@pytest.mark.parametrize("upstream", [-3.0, -np.inf])
def test_the_zeros_of_a_full_max_gradient_are_signed_as_torchs(reduce, upstream):
    """torch's max() / min() write their share into zeros (+0. elsewhere, even for an
    infinite dL/dy); amax / amin multiply by the mask (-0. for a negative dL/dy), as here."""
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (torch, ffnn):
        x = lib.tensor([-2.0, 0.5, 7.0, 7.0], requires_grad=True)
        (getattr(x, reduce)() * upstream).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])
    assert np.signbit(grads[1]).tolist() == np.signbit(grads[0]).tolist()
