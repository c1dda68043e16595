"""MSE's forward (differences and their sum of squares) and backward split over OpenBLAS's
threads compute what the whole calls compute, bit for bit: the sum by fixed blocks, each
block's sum added in order, whole or by parts, in the eager op and the fused step alike."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ffnn import accel
from tests.helpers import loss_and_gradient

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SIZES = [accel.PYTHON_SPLIT_MIN + 37, 3 * (1 << 15) + 1]  # parts of unequal blocks


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
def test_split_squared_difference_is_the_whole_one(split_calls, dtype, size, rng):
    """``squared_difference`` by parts of blocks: the differences and the total of the whole
    call and of the fused step's ``squared_error_gradient`` (its gradient 2 d · scale),
    bit for bit; the total within float64's rounding of the exact sum of the squares."""
    from ffnn import _kernels

    done, whole = split_calls
    x, y = (rng.standard_normal(size).astype(dtype) for _ in range(2))
    diff, total = accel.squared_difference(x, y)
    assert done == [True] * (size >= accel.PYTHON_SPLIT_MIN)  # the one call that may
    with whole():
        entire = accel.squared_difference(x, y)
    assert total == entire[1]
    np.testing.assert_array_equal(diff, entire[0])
    np.testing.assert_array_equal(diff, x - y)
    g = np.empty_like(x)
    assert _kernels.squared_error_gradient(x, y, dtype(0.25), g) == total
    np.testing.assert_array_equal(g, (diff + diff) * dtype(0.25))
    exact = math.fsum((diff * diff).astype(np.float64))  # each square in x's dtype
    assert abs(total - exact) <= 1e-12 * exact


@pytest.mark.skipif(not accel.enabled, reason="the op takes its kernels only when enabled")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_mse_backward_is_numpys_product(split_calls, dtype, rng):
    """``F.mse_loss``'s gradients on a prediction that splits: the backward's product by
    parts is NumPy's ``diff · 2/N`` bit for bit, for the input and the target."""
    import ffnn
    import ffnn.nn.functional as F

    done, _ = split_calls
    shape = (accel.PYTHON_SPLIT_MIN // 100 + 3, 100)
    x_np, y_np = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
    x, y = (ffnn.from_numpy(a).requires_grad_() for a in (x_np, y_np))
    F.mse_loss(x, y).backward()
    assert done == [True, True]  # the forward and the backward
    expected = (x_np - y_np) * dtype(2 / x_np.size)
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    np.testing.assert_array_equal(y.grad.numpy(), -expected)


def test_split_mse_agrees_with_torch(split_calls, rng):
    """The loss and the gradient on [2624, 100] float64, split, against torch's at 1e-10."""
    torch = pytest.importorskip("torch")
    import ffnn

    shape = (accel.PYTHON_SPLIT_MIN // 100 + 3, 100)
    x, y = rng.standard_normal(shape), rng.standard_normal(shape)
    loss, grad = loss_and_gradient(ffnn, "mse_loss", x, y)
    assert split_calls[0] == [True, True] * accel.enabled  # the op's kernels, when on
    expected, expected_grad = loss_and_gradient(torch, "mse_loss", x, y)
    np.testing.assert_allclose(loss, expected, rtol=1e-10)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-18)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
def test_fused_step_squared_error_by_parts(split_calls, dtype, size, rng):
    """The fused step's MSE by parts of its blocks (from ``SPLIT_MIN`` elements): the total
    and g = 2 (x - y) · scale of the whole ``squared_error_gradient`` bit for bit, and
    ``_loss`` the same with or without a split."""
    from ffnn import _kernels
    from ffnn.compiler import _fused_kernel
    from ffnn.kernels import blas_split, native

    x, y = (rng.standard_normal(size).astype(dtype) for _ in range(2))
    blas = native.blas_functions(dtype)
    split = blas_split.split_row(size, x.itemsize, 2)  # the splitter's, at any size
    assert blas[native.SQUARED_ERROR_PART] != 0 and split[0] != 0 and split[2] >= 2
    scale = dtype(1 / size)  # ``_loss``'s for a mean: g = 2 (x - y) / size
    g_whole, g_parts = np.empty_like(x), np.empty_like(x)
    total = _kernels.squared_error_gradient(x, y, scale, g_whole)
    assert _fused_kernel._squared_error_by_parts(x, y, scale, g_parts, blas, split) == total
    np.testing.assert_array_equal(g_parts, g_whole)
    losses = []
    for row in (split, blas_split.NO_SPLIT):
        g = np.empty((size, 1), dtype)
        losses.append(_fused_kernel._loss(x.reshape(size, 1), y.reshape(size, 1),
                                          np.zeros(0, np.int64), _fused_kernel.MSE, True, 1.0,
                                          g, blas, row))
        np.testing.assert_array_equal(g.ravel(), g_whole)
    assert losses[0] == losses[1] == total / size
