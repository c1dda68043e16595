"""Cross-entropy by parts of rows over OpenBLAS's threads (the eager op's forward and
backward, the fused step's loss) computes what the whole call computes, bit for bit, and
what torch computes; softmax and log softmax split from as few elements."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn import accel
from tests.helpers import loss_and_gradient

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SHAPES = [(accel.EXP_ROWS_SPLIT_MIN // 10 + 37, 10),  # narrow rows: blocks of rows
          (accel.EXP_ROWS_SPLIT_MIN // 300 + 3, 300),  # a row at a time
          (3, accel.EXP_ROWS_SPLIT_MIN + 11)]  # a few long rows


def _eager(x, y, scale):
    total, prob = accel.cross_entropy_forward(x, y)
    return total, prob, accel.cross_entropy_backward(prob, y, scale)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [*SHAPES, (accel.PYTHON_SPLIT_MIN // 100 + 9, 100)])
def test_split_cross_entropy_is_the_whole_one(split_calls, dtype, shape, rng):
    """The loss, the softmax and the gradient split by rows (the forward from
    ``EXP_ROWS_SPLIT_MIN`` logits, the backward from ``PYTHON_SPLIT_MIN``) are the whole
    calls' bit for bit, whatever part a row falls in."""
    done, whole = split_calls
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    y = rng.integers(0, shape[1], shape[0])
    split = _eager(x, y, 0.37)
    assert done == [True] * (1 + (x.size >= accel.PYTHON_SPLIT_MIN))  # each that may
    with whole():
        entire = _eager(x, y, 0.37)
    assert split[0] == entire[0]
    for a, b in zip(split[1:], entire[1:]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape", SHAPES[:2])
def test_split_cross_entropy_agrees_with_torch(split_calls, shape, rng):
    """``F.cross_entropy`` and its gradient on logits that split, in float64, agree with
    torch's to 1e-10."""
    torch = pytest.importorskip("torch")
    import ffnn

    x = rng.standard_normal(shape) * 4
    y = rng.integers(0, shape[1], shape[0])
    loss, grad = loss_and_gradient(ffnn, "cross_entropy", x, y)
    assert split_calls[0] == [True] * accel.enabled  # the forward split, the backward whole
    expected, expected_grad = loss_and_gradient(torch, "cross_entropy", x, y)
    np.testing.assert_allclose(loss, expected, rtol=1e-10)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(accel.COSTLY_SPLIT_MIN // 40 + 7, 40), SHAPES[2]])
def test_fused_step_cross_entropy_by_parts(split_calls, dtype, shape, rng):
    """The fused step's loss with a split (from ``COSTLY_SPLIT_MIN`` logits: the softmax and
    the gradient in one pass a part) returns the whole loss's value and dL/dout bit for
    bit, and the eager op's."""
    from ffnn.compiler import _fused_kernel
    from ffnn.kernels import blas_split, native

    x = (rng.standard_normal(shape) * 4).astype(dtype)
    y = rng.integers(0, shape[1], shape[0])
    blas = native.blas_functions(dtype)
    split = blas_split.split_row(x.size, x.itemsize, accel.COSTLY_SPLIT_MIN)
    assert blas[native.CROSS_ENTROPY_PART] != 0 and split[0] != 0 and split[2] >= 2
    scale = x.dtype.type(1 / shape[0])
    found = []
    for row in (split, blas_split.NO_SPLIT):
        g = np.empty_like(x)
        found.append((_fused_kernel._cross_entropy(x, y, scale, g, blas, row), g))
    total, _, grad = _eager(x, y, 1 / shape[0])
    for value, g in found:
        assert value == total
        np.testing.assert_array_equal(g, grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_splits_from_as_few_elements(split_calls, dtype, rng):
    """Softmax and log softmax over the last axis split by rows from ``EXP_ROWS_SPLIT_MIN``
    elements, as cross-entropy's forward (an exp an element), each the whole call's bit for
    bit."""
    done, whole = split_calls
    x = (rng.standard_normal((accel.EXP_ROWS_SPLIT_MIN // 100 + 1, 100)) * 4).astype(dtype)
    assert x.size < accel.SPLIT_MIN
    split = (accel.softmax_last(x), *accel.log_softmax_last(x, keep=True))
    assert done == [True, True]
    with whole():
        entire = (accel.softmax_last(x), *accel.log_softmax_last(x, keep=True))
    for a, b in zip(split, entire):
        np.testing.assert_array_equal(a, b)
