"""Batch norm and layer norm's backward by parts of rows (``ffnn.kernels.norm_parts``,
taken by ``accel`` from ``NORM_PARTS_MIN`` elements where OpenBLAS has threads): what the
whole kernels compute, to the rounding of their float64 sums, and torch's values in
float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ffnn import accel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")


def _parts_or_skip():
    from ffnn.kernels import blas_split

    found = blas_split.splitter()
    if found is None or found.threads() < 2:
        pytest.skip("batch norm by parts needs OpenBLAS's split and two threads")


def _spy(monkeypatch):
    from ffnn.kernels import norm_parts

    calls = []
    for name in ("batch_norm_forward", "batch_norm_backward", "layer_norm_backward"):
        original = getattr(norm_parts, name)
        monkeypatch.setattr(norm_parts, name,
                            lambda *a, _o=original, _n=name: calls.append(_n) or _o(*a))
    return calls


def _assert_close(got, expected, tolerance):
    """Each array of ``got`` (None: skipped) within ``tolerance`` times the largest of its
    ``expected`` counterpart."""
    for ours, theirs in zip(got, expected):
        if ours is not None:
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=0,
                                       atol=tolerance * np.max(np.abs(theirs)))


def _float64_case(seed):
    """x, dL/dy [1001, 70], γ, β: large enough to run by parts."""
    rng = np.random.default_rng(seed)
    x, g = rng.standard_normal((1001, 70)) * 2 - 0.5, rng.standard_normal((1001, 70))
    return x, g, rng.standard_normal(70), rng.standard_normal(70)


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 2e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("shape", [(16385, 8), (2049, 97), (600, 300)])
def test_by_parts_is_the_whole_kernel(shape, dtype, tolerance, monkeypatch):
    _parts_or_skip()
    calls = _spy(monkeypatch)
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 3 + 10).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w, b = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    ours = accel.batch_norm_forward(x, w, b, 1e-5)
    grads = accel.batch_norm_backward(g, ours[1], ours[4], w, True)
    assert calls == ["batch_norm_forward", "batch_norm_backward"]
    n = shape[1]
    y, x_hat, mean, var, rstd = (np.empty_like(x), np.empty_like(x), np.empty(n), np.empty(n),
                                 np.empty(n))
    kernels = accel._kernels()
    kernels.batch_norm_forward(x, w, b, 1e-5, y, x_hat, mean, var, rstd)
    grad_x, sum_gx, sum_g = np.empty_like(x), np.empty(n), np.empty(n)
    kernels.batch_norm_backward(g, x_hat, rstd, w, True, grad_x, sum_gx, sum_g)
    _assert_close([*ours, *grads], [y, x_hat, mean, var, rstd, grad_x, sum_gx, sum_g],
                  tolerance)


def test_by_parts_follows_torch_in_float64(monkeypatch):
    _parts_or_skip()
    calls = _spy(monkeypatch)
    x, g, w, b = _float64_case(8)
    y, x_hat, mean, var, rstd = accel.batch_norm_forward(x, w, b, 1e-5)
    grad_x, grad_w, grad_b = accel.batch_norm_backward(g, x_hat, rstd, w, True)
    assert calls == ["batch_norm_forward", "batch_norm_backward"]
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True, eps=1e-5)
    ty.backward(torch.from_numpy(g))
    for ours, theirs in ((y, ty.detach()), (grad_x, tx.grad), (grad_w, tw.grad),
                         (grad_b, tb.grad), (mean, tx.detach().mean(0)),
                         (var, tx.detach().var(0, unbiased=False))):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_small_inputs_run_whole(monkeypatch):
    calls = _spy(monkeypatch)
    x = np.random.default_rng(0).standard_normal((100, 70))
    accel.batch_norm_forward(x, None, None, 1e-5)
    assert x.size < accel.NORM_PARTS_MIN and calls == []


@pytest.mark.parametrize("need_x", [True, False])
@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 2e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("shape", [(16385, 8), (2049, 97)])
def test_layer_norm_backward_by_parts_is_the_whole_kernel(shape, dtype, tolerance, need_x,
                                                          monkeypatch):
    _parts_or_skip()
    calls = _spy(monkeypatch)
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3 + 10).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype)
    _, x_hat, rstd = accel.layer_norm_forward(x, w, None, 1e-5)
    ours = accel.layer_norm_backward(g, x_hat, rstd, w, need_x)
    assert calls == ["layer_norm_backward"]
    grad_x, sum_gx, sum_g = np.empty_like(x), np.empty(shape[1]), np.empty(shape[1])
    accel._kernels().layer_norm_backward(g, x_hat, rstd, w, True, grad_x, sum_gx, sum_g)
    assert (ours[0] is None) == (not need_x)
    _assert_close(ours, [grad_x, sum_gx, sum_g], tolerance)


def test_layer_norm_by_parts_follows_torch_in_float64(monkeypatch):
    _parts_or_skip()
    calls = _spy(monkeypatch)
    x, g, w, b = _float64_case(9)
    _, x_hat, rstd = accel.layer_norm_forward(x, w, b, 1e-5)
    grad_x, grad_w, grad_b = accel.layer_norm_backward(g, x_hat, rstd, w, True)
    assert calls == ["layer_norm_backward"]
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    torch.nn.functional.layer_norm(tx, (70,), tw, tb, eps=1e-5).backward(torch.from_numpy(g))
    for ours, theirs in ((grad_x, tx.grad), (grad_w, tw.grad), (grad_b, tb.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)
