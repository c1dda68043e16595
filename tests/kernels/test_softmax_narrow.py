"""A softmax over rows of a few classes runs across blocks of rows (``_kernels._softmax_narrow``):
the row kernel ``softmax_row``'s maxima, and its softmax and sums to rounding; the losses and
softmaxes built on it agree with torch (float64) on every width up to ``NARROW_ROWS`` and
past it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel
from tests.ops._scalar_helpers import compiled_loop

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

NARROW = 28  # ffnn._kernels.NARROW_ROWS (not imported here: that would load numba without it)


def _logits(n: int, c: int, dtype, seed: int = 0) -> np.ndarray:
    """Rows of logits with ties, large values and, in a few rows, NaN and infinities."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c)) * 4).astype(dtype)
    x[::7, 0] = x[::7, -1]  # ties with the maximum
    x[3::11] += dtype(80)  # large logits: the shift by the maximum matters
    if n > 20:
        x[5, 0], x[9, -1], x[13, :] = np.nan, np.inf, -np.inf
    return x


def _per_row(x: np.ndarray) -> tuple:
    """(softmax, maxima, sums) from ``softmax_row``, one row at a time."""
    kernels = accel._kernels()
    prob, tops, sums = np.empty_like(x), np.empty(len(x), x.dtype), np.empty(len(x))
    for i in range(len(x)):
        tops[i], sums[i] = kernels.softmax_row(x[i], prob[i])
    return prob, tops, sums


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", [1, 2, 3, 5, 8, 16, NARROW])
@pytest.mark.parametrize("n", [1, 255, 257, 600])  # one block, block edges, several blocks
def test_blocks_of_rows_compute_the_row_kernels_softmax(n, c, dtype):
    x = _logits(n, c, dtype)
    prob, tops, log_sums = np.empty_like(x), np.empty(n, dtype), np.empty(n)
    accel._kernels()._softmax_narrow(x, prob, tops, log_sums)
    row_prob, row_tops, row_sums = _per_row(x)
    np.testing.assert_array_equal(tops, row_tops)
    # the float64 sums in column order, the row kernel's in its vector lanes' order (and
    # its exps' multiply-adds fused or not): a sum of c positive terms, to c ulps
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(prob, row_prob, rtol=max(4, c) * eps, atol=0, equal_nan=True)
    # log s to s's own few ulps (|Δ log s| = |Δs|/s)
    np.testing.assert_allclose(log_sums, compiled_loop("log_f64")(row_sums), rtol=4e-16,
                               atol=1e-15, equal_nan=True)
    finite = np.isfinite(row_sums)
    np.testing.assert_allclose(log_sums[finite], np.log(row_sums[finite]), rtol=5e-16,
                               atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("c", [1, 2, 3, 7, 16, NARROW, NARROW + 1, 40])
def test_cross_entropy_matches_torch_on_every_width(c, reduction):
    x = _logits(600, c, np.float64, seed=c)[20:]  # finite rows
    labels = np.random.default_rng(c).integers(0, c, len(x))
    ours = ffnn.tensor(x, requires_grad=True)
    loss = ffnn.nn.functional.cross_entropy(ours, ffnn.tensor(labels), reduction=reduction)
    loss.backward()
    theirs = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(labels),
                                                 reduction=reduction)
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("c", [2, 4, 16, NARROW, NARROW + 1])
def test_softmax_and_log_softmax_match_torch_on_narrow_rows(c):
    x = _logits(700, c, np.float64, seed=1)
    for name in ("softmax", "log_softmax"):
        ours = getattr(ffnn.nn.functional, name)(ffnn.tensor(x), dim=-1).numpy()
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), dim=-1).numpy()
        # log softmax near 0 is (x - m) - log s with s near 1: exact to s's ulp, absolute
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15, equal_nan=True)


def test_float32_cross_entropy_on_two_classes_is_the_float64_loss_to_float32_precision():
    x = _logits(5000, 2, np.float32, seed=3)[20:]
    labels = np.random.default_rng(3).integers(0, 2, len(x))
    loss32 = ffnn.nn.functional.cross_entropy(ffnn.tensor(x), ffnn.tensor(labels)).item()
    loss64 = torch.nn.functional.cross_entropy(torch.tensor(x, dtype=torch.float64),
                                               torch.tensor(labels)).item()
    np.testing.assert_allclose(loss32, loss64, rtol=2e-6)
