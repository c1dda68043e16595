"""matmul (1-D, 2-D, batched, broadcasting) and the fused linear op."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_op, randn, seeds
from hypothesis import given
from hypothesis import strategies as st

import ffnn

dims = st.integers(1, 4)


@given(seed=seeds, n=dims, k=dims, m=dims, b=dims)
def test_matmul_ranks(seed, n, k, m, b):
    cases = [((k,), (k,)), ((k,), (k, m)), ((n, k), (k,)), ((n, k), (k, m)),
             ((b, n, k), (k, m)), ((k,), (b, k, m)), ((b, n, k), (k,)), ((b, 1, n, k), (2, k, m)),
             ((b, n, k), (b, k, m))]
    for i, (sa, sb) in enumerate(cases):
        check_op(lambda lib, x, y: x @ y, randn(seed + i, *sa), randn(seed + 100 + i, *sb))


def test_matmul_function_and_method():
    a, b = randn(0, 2, 3), randn(1, 3, 2)
    check_op(lambda lib, x, y: lib.matmul(x, y) + x.matmul(y) + x.mm(y), a, b)


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        ffnn.zeros(2, 3) @ ffnn.zeros(4, 5)


@given(seed=seeds, bias=st.booleans(), batch=st.sampled_from([(), (3,), (2, 3)]))
def test_linear_function(seed, bias, batch):
    x, w, b = randn(seed, *batch, 4), randn(seed + 1, 5, 4), randn(seed + 2, 5)
    if bias:
        check_op(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), x, w, b)
    else:
        check_op(lambda lib, x, w: lib.nn.functional.linear(x, w), x, w)


def test_linear_skips_gradients_nobody_asked_for():
    x = ffnn.tensor(np.ones((2, 3)))
    w = ffnn.tensor(np.ones((4, 3)), requires_grad=True)
    ffnn.nn.functional.linear(x, w).sum().backward()
    assert x.grad is None and w.grad.tolist() == [[2.0] * 3] * 4


def test_linear_function_shape_error():
    with pytest.raises(ValueError, match=r"input has 3 features \(shape \(2, 3\)\).*expects 4"):
        ffnn.nn.functional.linear(ffnn.zeros(2, 3), ffnn.zeros(5, 4))
