"""reshape/view, transpose/T/permute, expand, (un)squeeze, flatten, indexing, cat, stack."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ffnn
from tests.helpers import check_op, randn, seeds, shapes


@given(shape=shapes(1, 4), seed=seeds)
def test_reshape_and_view(shape, seed):
    x = randn(seed, *shape)
    size = x.size
    check_op(lambda lib, t: t.reshape(-1) * 2.0, x)
    check_op(lambda lib, t: t.view(size, 1).exp(), x)
    check_op(lambda lib, t: t.reshape(1, *shape[::-1]) ** 2, x)
    check_op(lambda lib, t: t.flatten() + t.flatten(0, -1), x)
    check_op(lambda lib, t: t.unsqueeze(0).unsqueeze(-1).squeeze(0) ** 2, x)
    check_op(lambda lib, t: t.view_as(t.reshape(-1)) * t.reshape(-1), x)


def test_reshape_error_names_shapes():
    with pytest.raises(RuntimeError, match=r"shape \(4,\) is invalid for input of shape \(2, 3\)"):
        ffnn.zeros(2, 3).reshape(4)


@given(shape=shapes(2, 4), seed=seeds, data=st.data())
def test_transpose_permute(shape, seed, data):
    n = len(shape)
    x = randn(seed, *shape)
    d0, d1 = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    perm = data.draw(st.permutations(range(n)))
    check_op(lambda lib, t: t.transpose(d0, d1) * t.transpose(d0, d1).exp(), x)
    check_op(lambda lib, t: t.permute(*perm) ** 2, x)
    check_op(lambda lib, t: t.permute(perm).sum(dim=0), x)
    check_op(lambda lib, t: t.mT * 3.0, x)


def test_T_of_a_matrix_and_of_a_3d_tensor():
    x = randn(0, 3, 4)
    check_op(lambda lib, t: t.T ** 2, x)
    y = randn(1, 2, 3, 4)
    out = ffnn.tensor(y).T
    np.testing.assert_array_equal(out.data, y.transpose(2, 1, 0))


@given(seed=seeds)
def test_expand(seed):
    check_op(lambda lib, t: t.expand(3, 2, 4) * 1.5, randn(seed, 2, 1))
    check_op(lambda lib, t: t.expand(-1, 5) ** 2, randn(seed, 3, 1))


INDEXES = {
    "int": lambda lib, t: t[1],
    "negative_int": lambda lib, t: t[-1, 2],
    "slice": lambda lib, t: t[1:, ::2],
    "slice_negative": lambda lib, t: t[:-1, 1:3],
    "ellipsis_none": lambda lib, t: t[..., None, 1],
    "int_array_repeats": lambda lib, t: t[lib.tensor([0, 2, 0, 0])],
    "int_array_cols": lambda lib, t: t[:, lib.tensor([3, 3, 1])],
    "pair_of_arrays": lambda lib, t: t[lib.tensor([0, 1, 1]), lib.tensor([2, 2, 0])],
    "bool_mask": lambda lib, t: t[t > 0],
    "list": lambda lib, t: t[[1, 1, 2]],
}


@pytest.mark.parametrize("name", list(INDEXES))
@given(seed=seeds)
def test_getitem(name, seed):
    check_op(lambda lib, t: INDEXES[name](lib, t) * 2.0, randn(seed, 3, 4))


@given(shape=shapes(1, 3), seed=seeds, data=st.data())
def test_cat_and_stack(shape, seed, data):
    n = len(shape)
    dim = data.draw(st.integers(-n, n - 1))
    other = list(shape)
    other[dim] = data.draw(st.integers(1, 3))
    a, b, c = randn(seed, *shape), randn(seed + 1, *other), randn(seed + 2, *shape)
    check_op(lambda lib, x, y, z: lib.cat([x, y, z], dim=dim) ** 2, a, b, c)
    sdim = data.draw(st.integers(-n - 1, n))
    check_op(lambda lib, x, z: lib.stack([x, z, x], dim=sdim) ** 2, a, c)


@pytest.mark.parametrize("call", [lambda m: m.ones(4).chunk(0), lambda m: m.ones(4).split(0),
                                  lambda m: m.ones(2, 3).permute(0, 0),
                                  lambda m: m.nn.functional.one_hot(m.tensor([-1, 0])),
                                  lambda m: m.nn.functional.one_hot(m.tensor([0.0, 1.0]))])
def test_bad_shape_arguments_are_runtime_errors_as_torch(call):
    """(before: ZeroDivisionError, NumPy's messages, and one_hot([-1, 0]) silently [[1], [1]])"""
    import torch

    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match=r"chunks|split_size|duplicate dims|non-negative|"
                                           r"index tensor"):
        call(ffnn)
