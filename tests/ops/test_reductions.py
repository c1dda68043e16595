"""sum, mean, var, max, min over axes (with keepdim), against torch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import check_op, randn, seeds, shapes


@st.composite
def shape_and_dims(draw):
    shape = draw(shapes(1, 3))
    n = len(shape)
    dim = draw(st.one_of(st.none(), st.integers(-n, n - 1),
                         st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)
                         .map(tuple)))
    return shape, dim, draw(st.booleans())


@pytest.mark.parametrize("op", ["sum", "mean"])
@given(case=shape_and_dims(), seed=seeds)
def test_sum_mean(op, case, seed):
    shape, dim, keepdim = case
    if dim is None:
        check_op(lambda lib, x: getattr(x, op)(), randn(seed, *shape))
    else:
        check_op(lambda lib, x: getattr(x, op)(dim=dim, keepdim=keepdim), randn(seed, *shape))


@pytest.mark.parametrize("op", ["max", "min"])
@given(shape=shapes(1, 3), seed=seeds, data=st.data())
def test_max_min(op, shape, seed, data):
    n = len(shape)
    dim = data.draw(st.integers(-n, n - 1))
    keepdim = data.draw(st.booleans())
    x = randn(seed, *shape)
    check_op(lambda lib, t: getattr(t, op)(), x)
    check_op(lambda lib, t: getattr(t, op)(dim=dim, keepdim=keepdim).values, x)
    check_op(lambda lib, t: getattr(t, "a" + op)(dim=dim, keepdim=keepdim), x)


def test_max_ties_follow_torch():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    check_op(lambda lib, t: t.max(), x, finite_differences=False)
    check_op(lambda lib, t: t.max(dim=1).values, x, finite_differences=False)
    check_op(lambda lib, t: t.min(dim=0, keepdim=True).values, x, finite_differences=False)
    check_op(lambda lib, t: t.amax(dim=1), x, finite_differences=False)  # ties split evenly
    check_op(lambda lib, t: t.amin(dim=(0, 1), keepdim=True), x, finite_differences=False)
    check_op(lambda lib, t: t.amax(dim=(1, 0)), x, finite_differences=False)


@given(shape=shapes(2, 3), seed=seeds)
def test_amax_amin_over_several_dims(shape, seed):
    x = randn(seed, *shape)
    check_op(lambda lib, t: t.amax(dim=(0, -1)), x)
    check_op(lambda lib, t: t.amin(dim=(0, 1), keepdim=True), x)


@given(shape=shapes(2, 3, min_side=2), seed=seeds, keepdim=st.booleans())
def test_var_std(shape, seed, keepdim):
    x = randn(seed, *shape)
    check_op(lambda lib, t: t.var(dim=1, keepdim=keepdim), x)
    check_op(lambda lib, t: t.var(dim=0, keepdim=keepdim, unbiased=False), x)
    check_op(lambda lib, t: t.std(dim=1, keepdim=keepdim), x)
    check_op(lambda lib, t: t.var(), x)
    check_op(lambda lib, t: t.var(dim=1, correction=0), x)
    check_op(lambda lib, t: t.var(dim=0, correction=2) if shape[0] > 2 else t.var(dim=0), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_var_std_of_float32_columns_are_torchs_to_the_rounding(dtype):
    """Down a long column with an offset (standardising a data set's features), torch sums
    in float64: its float32 std is the rounded exact one, and so is ffnn's."""
    import torch

    import ffnn

    rng = np.random.default_rng(0)
    x = (rng.random((1797, 6)) * [1, 3, 0.01, 5, 20, 1] + [0.1, 4, 7, 0, 3, 0.5]).astype(dtype)
    for options in ({"dim": 0}, {"dim": 0, "unbiased": False}, {}):
        for name in ("std", "var"):
            ours = getattr(ffnn.tensor(x), name)(**options).numpy()
            theirs = getattr(torch.tensor(x), name)(**options).numpy()
            assert ours.dtype == theirs.dtype
            np.testing.assert_allclose(ours, theirs, rtol=2 * np.finfo(dtype).eps, atol=0)


def test_reductions_keep_float32():
    x = np.ones((3, 2), np.float32)
    check_op(lambda lib, t: t.mean(dim=0) + t.sum(dim=(0, 1)), x, dtypes=(np.float32,),
             finite_differences=False)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_max_min_and_arg_down_any_axis_follow_torch(dtype, compiled, monkeypatch):
    """max(dim) / min(dim) / argmax / argmin down an axis other than the last (a compiled
    pass where the kernels are on): the first extreme index, NaN counting as the extreme,
    values read at it, the gradient there; torch's results exactly."""
    import torch

    import ffnn
    from ffnn import accel

    monkeypatch.setattr(accel, "enabled", compiled and accel.available)
    rng = np.random.default_rng(0)
    for shape, dim in [((300, 40), 0), ((30, 40, 20), 1), ((30, 40, 20), -3), ((300, 40), 1)]:
        x = rng.integers(-3, 3, shape).astype(dtype)  # many ties
        if dtype != np.int64:
            x.flat[rng.integers(0, x.size, 9)] = np.nan
        for keepdim in (False, True):
            for name in ("max", "min"):
                ours = getattr(ffnn.tensor(x), name)(dim, keepdim=keepdim)
                theirs = getattr(torch.tensor(x), name)(dim, keepdim=keepdim)
                np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
                np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
                arg = getattr(ffnn.tensor(x), "arg" + name)(dim, keepdim=keepdim)
                np.testing.assert_array_equal(arg.numpy(), theirs.indices.numpy())
    x = rng.standard_normal((300, 40))
    weights = rng.standard_normal(40)
    ours, theirs = ffnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours.max(0).values * ffnn.tensor(weights)).sum().backward()
    (theirs.max(0).values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
