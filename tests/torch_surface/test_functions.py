"""The ``torch.*`` function forms and the tensor methods behind them, against torch (values,
gradients) and finite differences."""

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close, check_op


@pytest.fixture
def x(rng):
    return rng.standard_normal((3, 4))


@pytest.mark.parametrize("name", ["sin", "cos", "exp", "tanh", "sigmoid", "relu", "abs",
                                  "square", "neg"])
def test_elementwise_function_forms(name, x):
    check_op(lambda lib, a: getattr(lib, name)(a), x)


def test_log_sqrt_pow_function_forms(x):
    positive = np.abs(x) + 0.5
    check_op(lambda lib, a: lib.log(a), positive)
    check_op(lambda lib, a: lib.sqrt(a), positive)
    check_op(lambda lib, a: lib.pow(a, 3), x)
    check_op(lambda lib, a, b: lib.pow(a, b), positive, x)


def test_method_forms_of_sin_and_cos(x):
    check_op(lambda lib, a: a.sin() * a.cos(), x)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_reductions_and_softmax_forms(dim, x):
    check_op(lambda lib, a: lib.softmax(a, dim=dim), x)
    check_op(lambda lib, a: lib.log_softmax(a, dim), x)
    check_op(lambda lib, a: lib.sum(a, dim=dim), x)
    check_op(lambda lib, a: lib.mean(a, dim, keepdim=True), x)
    check_op(lambda lib, a: lib.std(a, dim=dim), x)
    check_op(lambda lib, a: lib.var(a, dim, unbiased=False), x)
    check_op(lambda lib, a: lib.norm(a, dim=dim), x)


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0])
def test_p_norm_gradients_at_zero_entries_are_torchs(p):
    """x·|x|^(p-2) is 0·∞ at a zero entry for p < 2: torch's gradient there is 0."""
    values = np.array([[0.0, 1.0, -2.0], [0.0, 0.0, 0.0], [0.5, 0.0, 3.0]])
    grads = []
    for lib in (ffnn, torch):
        t = lib.tensor(values, requires_grad=True)
        (t.norm(p, dim=1) * lib.tensor([1.0, 2.0, -1.0])).sum().backward()
        grads.append(t.grad.numpy())
    assert np.isfinite(grads[0]).all()
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dim", [0, 1])
def test_max_min_with_dim_return_values_and_indices(dim, x):
    for name in ("max", "min"):
        ours = getattr(ffnn, name)(ffnn.tensor(x), dim=dim)
        theirs = getattr(torch, name)(torch.tensor(x), dim=dim)
        values, indices = ours
        assert_close(values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())
        assert ours.indices is indices
        check_op(lambda lib, a, n=name: getattr(lib, n)(a, dim)[0], x)
    check_op(lambda lib, a: lib.max(a), x)
    check_op(lambda lib, a, b: lib.max(a, b), x, x[::-1].copy())
    np.testing.assert_array_equal(ffnn.argmax(ffnn.tensor(x), dim=dim).numpy(),
                                  torch.argmax(torch.tensor(x), dim=dim).numpy())
    np.testing.assert_array_equal(ffnn.argmin(ffnn.tensor(x), dim).numpy(),
                                  torch.argmin(torch.tensor(x), dim).numpy())


def test_shape_function_forms(rng):
    x = rng.standard_normal((2, 1, 3))
    check_op(lambda lib, a: lib.unsqueeze(a, 0), x)
    check_op(lambda lib, a: lib.squeeze(a, 1), x)
    check_op(lambda lib, a: lib.squeeze(a), x)
    check_op(lambda lib, a: lib.flatten(a), x)
    check_op(lambda lib, a: lib.flatten(a, 1), x)
    check_op(lambda lib, a: lib.reshape(a, (3, 2)), x)
    check_op(lambda lib, a: lib.transpose(a, 0, 2), x)
    check_op(lambda lib, a: lib.t(lib.squeeze(a, 1)), x)
    check_op(lambda lib, a, b: lib.cat([a, b], dim=1), x, x)
    check_op(lambda lib, a, b: lib.stack([a, b], 0), x, x)


def test_where_and_clamp(x, rng):
    y = rng.standard_normal((3, 4))
    check_op(lambda lib, a, b: lib.where(a > b, a, b), x, y)
    check_op(lambda lib, a: lib.where(a > 0, a, lib.zeros_like(a)), x)
    check_op(lambda lib, a, b: lib.where(a > 0, a, b[:1]), x, y)  # broadcast other
    check_op(lambda lib, a: lib.clamp(a, min=-0.5, max=0.5), x)
    check_op(lambda lib, a: a.masked_fill(a < 0, 0.0), x)
    rows, cols = ffnn.where(ffnn.tensor(x) > 0)
    t_rows, t_cols = torch.where(torch.tensor(x) > 0)
    np.testing.assert_array_equal(rows.numpy(), t_rows.numpy())
    np.testing.assert_array_equal(cols.numpy(), t_cols.numpy())


def test_matrix_products(rng):
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    check_op(lambda lib, p, q: lib.bmm(p, q), a, b)
    check_op(lambda lib, p, q: p.bmm(q), a, b)
    check_op(lambda lib, p, q: lib.mm(p[0], q[0]), a, b)
    check_op(lambda lib, p, q: lib.matmul(p, q), a, b)
    v, w = rng.standard_normal(4), rng.standard_normal(4)
    check_op(lambda lib, p, q: lib.dot(p, q), v, w)
    with pytest.raises(RuntimeError, match="bmm: expected 3-D"):
        ffnn.bmm(ffnn.tensor(a[0]), ffnn.tensor(b[0]))
    with pytest.raises(RuntimeError, match="mm: both arguments must be 2-D"):
        ffnn.mm(ffnn.tensor(a), ffnn.tensor(b))


def test_rounding_and_tests_for_special_values():
    values = [0.5, 1.5, 2.5, -0.5, 1.26, np.nan, np.inf, -np.inf]
    ours, theirs = ffnn.tensor(values), torch.tensor(values)
    for name in ("round", "isnan", "isinf", "isfinite", "sign"):
        np.testing.assert_array_equal(getattr(ffnn, name)(ours).numpy(),
                                      getattr(torch, name)(theirs).numpy())
    np.testing.assert_array_equal(ffnn.round(ours, decimals=1).numpy(),
                                  torch.round(theirs, decimals=1).numpy())


@pytest.mark.parametrize("call", [
    lambda lib, a: a.round(), lambda lib, a: lib.round(a, decimals=1), lambda lib, a: a.floor(),
    lambda lib, a: a.ceil(), lambda lib, a: a.trunc(), lambda lib, a: lib.sign(a)],
    ids=["round", "round1", "floor", "ceil", "trunc", "sign"])
def test_step_functions_stay_in_the_graph_with_a_zero_gradient(call):
    """As torch: the result requires a gradient, so a loss through it backpropagates zeros
    (a loss through round() alone used to fail: 'does not require grad')."""
    values = np.array([[2.5, -0.5, 1.25, np.nan], [-0.0, 3.7, -2.51, 0.05]])
    grads = []
    for lib in (torch, ffnn):
        a = lib.tensor(values, requires_grad=True)
        out = call(lib, a)
        assert out.requires_grad and out.grad_fn is not None
        (out * 2.0).sum().backward()
        grads.append((out.detach().numpy(), a.grad.numpy()))
    (theirs, their_grad), (ours, our_grad) = grads
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    np.testing.assert_array_equal(our_grad, their_grad)
    assert not our_grad.any()


def test_split_chunk_and_comparisons(rng):
    x = rng.standard_normal((7, 3))
    check_op(lambda lib, a: lib.cat([p * (i + 1) for i, p in enumerate(lib.split(a, 3))]), x)
    check_op(lambda lib, a: lib.cat([p * (i + 1) for i, p in enumerate(a.chunk(3))]), x)
    check_op(lambda lib, a: lib.cat([p * (i + 1) for i, p in enumerate(a.split([2, 5]))]), x)
    t = ffnn.tensor(x)
    for name in ("ne", "lt", "le", "gt", "ge"):
        np.testing.assert_array_equal(getattr(t, name)(0.1).numpy(),
                                      getattr(torch.tensor(x), name)(0.1).numpy())
    assert ffnn.allclose(t, t + 1e-9) and not ffnn.allclose(t, t + 1)
    assert ffnn.equal(t, ffnn.tensor(x)) and not ffnn.equal(t, t[:2])
    assert ffnn.numel(t) == 21


def test_format_of_a_scalar_tensor_as_torch():
    for spec in (".4f", "+.2f", ".3e", "8.2f", ""):
        value = 1.234567
        assert format(ffnn.tensor(value), spec) == format(torch.tensor(value), spec)
    assert "{:+.2f}".format(ffnn.tensor(-2.5)) == "-2.50"  # noqa: UP032 - the str.format form
    assert f"{ffnn.tensor(7):d}" == "7"
    with pytest.raises(TypeError):
        format(ffnn.tensor([1.0, 2.0]), ".2f")  # torch refuses too


@pytest.mark.parametrize("a, b", [([5, -3, 7, 0], 3), ([5.5, -3.2, 7.0], 2.0),
                                  ([5.5, -3.2, 7.0], -2.0), ([9, -9], -4)])
def test_remainder_and_floor_division_as_torch(a, b):
    ours, theirs = ffnn.tensor(a), torch.tensor(a)
    for op in (lambda x: x % b, lambda x: x // b, lambda x: b % (abs(x) + 1),
               lambda x: abs(x), lambda x: x.remainder(b)):
        result, expected = op(ours), op(theirs)
        assert str(result.dtype) == str(expected.dtype).removeprefix("torch.")
        np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-6)


def test_remainder_gradient(rng):
    x = rng.uniform(-5, 5, (3, 4))
    check_op(lambda lib, a: a % 1.5, x)
    check_op(lambda lib, a: (a * 3).floor() + a.ceil() * 0 + a, x)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_argsort_topk_gather_as_torch(dim, descending, rng):
    x = rng.standard_normal((4, 5))
    x[1, :2] = 0.5  # ties keep their order (stable)
    ours, theirs = ffnn.tensor(x), torch.tensor(x)
    values, indices = ffnn.sort(ours, dim=dim, descending=descending)
    expected = torch.sort(theirs, dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(values.numpy(), expected.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
    np.testing.assert_array_equal(
        ours.argsort(dim, descending).numpy(),
        torch.argsort(theirs, dim=dim, descending=descending, stable=True).numpy())
    top = ours.topk(3, dim=dim, largest=not descending)
    reference = theirs.topk(3, dim=dim, largest=not descending)
    np.testing.assert_array_equal(top.values.numpy(), reference.values.numpy())
    distinct = rng.standard_normal((4, 5))  # no ties: sort is differentiable there
    check_op(lambda lib, a: lib.sort(a, dim=dim, descending=descending)[0], distinct)
    check_op(lambda lib, a: a.topk(2, dim)[0], distinct)
    index = rng.integers(0, 3, (2, 3))
    check_op(lambda lib, a: lib.gather(a, 1, lib.tensor(index)), x)  # index smaller than a
    check_op(lambda lib, a: a.gather(0, lib.tensor(index)), x)
    with pytest.raises(RuntimeError, match="topk: k=9 is out of range"):
        ours.topk(9, dim=dim)


@pytest.mark.parametrize("sizes", [(2, 1), (1, 3), (2, 2, 1), (3, 1, 2)])
def test_repeat_as_torch(sizes, rng):
    check_op(lambda lib, a: a.repeat(*sizes), rng.standard_normal((2, 3)))
    with pytest.raises(RuntimeError, match="can not be smaller"):
        ffnn.zeros(2, 3).repeat(2)


def test_size_and_print_options():
    assert ffnn.Size([2, 3]) == (2, 3) == ffnn.zeros(2, 3).shape
    assert repr(ffnn.Size([2, 3])) == repr(torch.Size([2, 3])) and ffnn.Size([2, 3]).numel() == 6
    arrays = [np.array([[3.14159, -2.5e-3, 10.0], [0.5, 7.25, 1.0]]),
              np.array([1e-8, 1.0, 1e8]), np.array([1.5, 1e6]), np.array([2.0, 3e9])]
    settings = [dict(precision=2), dict(sci_mode=True), dict(sci_mode=False),
                dict(profile="short"), dict(threshold=4, edgeitems=1),
                dict(linewidth=30, precision=6)]
    before = np.get_printoptions()
    try:
        for options in settings:
            for lib in (torch, ffnn):
                lib.set_printoptions(profile="default")
                lib.set_printoptions(**options)
            for values in arrays:
                assert repr(ffnn.tensor(values)) == repr(torch.tensor(values)), options
        assert np.get_printoptions() == before  # NumPy's own printing is left alone
    finally:
        for lib in (torch, ffnn):
            lib.set_printoptions(profile="default", sci_mode=None)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_log1p_expm1_cumsum_logsumexp(dim, rng):
    x = rng.uniform(-0.9, 2.0, (3, 4))
    check_op(lambda lib, a: lib.log1p(a) + a.expm1(), x)
    check_op(lambda lib, a: lib.cumsum(a, dim=dim), x)
    check_op(lambda lib, a: a.cumsum(dim), x)
    check_op(lambda lib, a: lib.logsumexp(a * 300, dim=dim), x)  # stable for large values
    check_op(lambda lib, a: a.logsumexp(dim, keepdim=True), x)
    t = ffnn.tensor([1.5, -1.5, 2.0])
    for name in ("floor", "ceil"):
        np.testing.assert_array_equal(getattr(ffnn, name)(t).numpy(),
                                      getattr(torch, name)(torch.tensor([1.5, -1.5, 2.0])).numpy())
    assert ffnn.remainder(t, 1.0).tolist() == torch.remainder(
        torch.tensor([1.5, -1.5, 2.0]), 1.0).tolist()
    assert ffnn.floor_divide(ffnn.tensor([7, -7]), 2).tolist() == [3, -4]


def test_numpy_style_axis_keyword_as_torch(rng):
    x = rng.standard_normal((3, 4))
    ours, theirs = ffnn.tensor(x), torch.tensor(x)
    for name in ("argmax", "argmin", "sum", "mean", "amax", "amin", "std", "var"):
        np.testing.assert_allclose(getattr(ours, name)(axis=1).numpy(),
                                   getattr(theirs, name)(axis=1).numpy(), rtol=1e-12)
        np.testing.assert_allclose(getattr(ffnn, name)(ours, axis=0).numpy(),
                                   getattr(torch, name)(theirs, axis=0).numpy(), rtol=1e-12)
    values, indices = ours.max(axis=1)
    np.testing.assert_array_equal(indices.numpy(), theirs.max(axis=1).indices.numpy())
    check_op(lambda lib, a: a.std(axis=0, correction=0) + lib.var(a, axis=1).sum(), x)
