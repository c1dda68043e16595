"""Layer norm's compiled path (``ffnn.accel.layer_norm_forward`` / ``_backward``: one pass
per row, float64 statistics) computes what the NumPy reference computes and follows torch
in float64, with and without the affine parameters, on 2-D and 3-D inputs. The compiled
path is spied on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel, nn

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

TOLERANCES = {np.float64: 1e-12, np.float32: 2e-6}


def _run(shape, dtype, affine, compiled, monkeypatch, frozen=False):
    """(y, dL/dx, dL/dγ, dL/dβ) of ``nn.LayerNorm(shape[-1])`` on fixed data; the γ, β
    gradients None without affine parameters (or with γ frozen, γ's)."""
    monkeypatch.setattr(accel, "enabled", compiled)
    calls = []
    original = accel.layer_norm_forward
    monkeypatch.setattr(accel, "layer_norm_forward",
                        lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 3 + 1.5).astype(dtype)
    grad = rng.standard_normal(shape).astype(dtype)
    layer = nn.LayerNorm(shape[-1], elementwise_affine=affine)
    if dtype == np.float64:
        layer = layer.double()
    if affine:
        layer.weight.data[:] = rng.standard_normal(shape[-1])
        layer.bias.data[:] = rng.standard_normal(shape[-1])
        layer.weight.requires_grad_(not frozen)
    t = ffnn.tensor(x, requires_grad=True)
    y = layer(t)
    y.backward(ffnn.tensor(grad))
    assert len(calls) == int(compiled)
    params = [layer.weight.grad, layer.bias.grad] if affine else [None, None]
    out = [y.numpy(), t.grad.numpy(), *(None if p is None else p.numpy() for p in params)]
    return out, (x, grad, layer)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(64, 96), (8, 9, 128)])
def test_compiled_layer_norm_equals_the_reference(shape, affine, dtype, monkeypatch):
    fast, _ = _run(shape, dtype, affine, True, monkeypatch)
    ref, _ = _run(shape, dtype, affine, False, monkeypatch)
    for a, b in zip(fast, ref):
        if b is None:
            assert a is None
            continue
        assert a.dtype == dtype and a.shape == b.shape
        scale = np.max(np.abs(b))
        np.testing.assert_allclose(a, b, rtol=0, atol=TOLERANCES[dtype] * scale)


@pytest.mark.parametrize("affine", [True, False])
def test_compiled_layer_norm_follows_torch_in_float64(affine, monkeypatch):
    (y, gx, gw, gb), (x, grad, layer) = _run((40, 3, 257), np.float64, affine, True,
                                             monkeypatch)
    reference = torch.nn.LayerNorm(257, elementwise_affine=affine, dtype=torch.float64)
    if affine:
        reference.weight.data[:] = torch.from_numpy(layer.weight.numpy())
        reference.bias.data[:] = torch.from_numpy(layer.bias.numpy())
    tx = torch.tensor(x, requires_grad=True)
    reference(tx).backward(torch.from_numpy(grad))
    np.testing.assert_allclose(y, reference(tx).detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    if affine:
        np.testing.assert_allclose(gw, reference.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gb, reference.bias.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_frozen_weight_gets_no_gradient_and_the_rest_are_the_reference_s(monkeypatch):
    fast, _ = _run((64, 96), np.float32, True, True, monkeypatch, frozen=True)
    ref, _ = _run((64, 96), np.float32, True, False, monkeypatch, frozen=True)
    assert fast[2] is None and ref[2] is None
    for a, b in ((fast[0], ref[0]), (fast[1], ref[1]), (fast[3], ref[3])):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-6 * np.max(np.abs(b)))


def _run_batch_norm(dtype, affine, compiled, monkeypatch):
    """(y, dL/dx, dL/dγ, dL/dβ, running mean, running var) of ``nn.BatchNorm1d`` in
    training mode on fixed [N, C] data."""
    monkeypatch.setattr(accel, "enabled", compiled)
    calls = []
    original = accel.batch_norm_forward
    monkeypatch.setattr(accel, "batch_norm_forward", lambda *a: calls.append(1) or original(*a))
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((100, 70)) * 2 - 0.5).astype(dtype)
    grad = rng.standard_normal(x.shape).astype(dtype)
    layer = nn.BatchNorm1d(70, affine=affine, momentum=0.3)
    if dtype == np.float64:
        layer = layer.double()
    if affine:
        layer.weight.data[:] = rng.standard_normal(70)
        layer.bias.data[:] = rng.standard_normal(70)
    t = ffnn.tensor(x, requires_grad=True)
    y = layer(t)
    y.backward(ffnn.tensor(grad))
    assert len(calls) == int(compiled)
    grads = [layer.weight.grad.numpy(), layer.bias.grad.numpy()] if affine else [None, None]
    return ([y.numpy(), t.grad.numpy(), *grads, layer.running_mean.numpy(),
             layer.running_var.numpy()], (x, grad, layer))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
def test_compiled_batch_norm_equals_the_reference(affine, dtype, monkeypatch):
    fast, _ = _run_batch_norm(dtype, affine, True, monkeypatch)
    ref, _ = _run_batch_norm(dtype, affine, False, monkeypatch)
    for a, b in zip(fast, ref):
        if b is None:
            assert a is None
            continue
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=TOLERANCES[dtype] * np.max(np.abs(b)))


def test_compiled_batch_norm_follows_torch_in_float64(monkeypatch):
    (y, gx, gw, gb, mean, var), (x, grad, layer) = _run_batch_norm(np.float64, True, True,
                                                                   monkeypatch)
    reference = torch.nn.BatchNorm1d(70, momentum=0.3, dtype=torch.float64)
    reference.weight.data[:] = torch.from_numpy(layer.weight.numpy())
    reference.bias.data[:] = torch.from_numpy(layer.bias.numpy())
    tx = torch.tensor(x, requires_grad=True)
    ty = reference(tx)
    ty.backward(torch.from_numpy(grad))
    pairs = [(y, ty.detach()), (gx, tx.grad), (gw, reference.weight.grad),
             (gb, reference.bias.grad), (mean, reference.running_mean),
             (var, reference.running_var)]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_running_statistics_update_rounds_as_numpy_s_two_steps(dtype):
    """``ops.norms.update_running`` with float64 batch statistics takes one compiled call per
    statistic: the same bits as ``r *= 1 - m; r += m·μ`` (and the unbiased variance's factor)
    in NumPy, over many momenta and batch sizes."""
    from ffnn.ops.norms import update_running

    rng = np.random.default_rng(7)
    for momentum, count in [(0.1, 16), (0.3, 2), (0.01, 1000), (1 / 3, 7), (0.9, 3)]:
        mean, var = rng.standard_normal(10_000) * 4, rng.random(10_000) * 9
        start_mean = rng.standard_normal(10_000).astype(dtype)
        start_var = rng.random(10_000).astype(dtype) + 0.5
        ours_mean, ours_var = start_mean.copy(), start_var.copy()
        update_running(ours_mean, ours_var, mean, var, momentum, count)
        ref_mean, ref_var = start_mean.copy(), start_var.copy()
        ref_mean *= 1 - momentum
        ref_mean += momentum * mean
        ref_var *= 1 - momentum
        ref_var += (momentum * count / (count - 1)) * var
        np.testing.assert_array_equal(ours_mean, ref_mean)
        np.testing.assert_array_equal(ours_var, ref_var)
        assert not np.array_equal(ours_mean, start_mean)


@pytest.mark.parametrize("kind", ["layer", "batch"])
def test_float32_x_hat_keeps_its_digits_where_the_mean_is_large(kind):
    """The last pass runs in float32 with μ rounded; the part of μ lost to rounding is put
    back (x̂ = (x - m) r - (μ - m) r), so x̂ of data centred on 1000 with σ ≈ 1 stays within
    a few float32 ulps of x̂ computed in float64 from the same float32 x (without it, the
    rounding of μ, up to 3e-5 here, would shift every x̂ by as much)."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((300, 64)) + 1000.25).astype(np.float32)
    x64 = x.astype(np.float64)
    axis = 1 if kind == "layer" else 0
    centred = x64 - x64.mean(axis=axis, keepdims=True)
    truth = centred / np.sqrt((centred ** 2).mean(axis=axis, keepdims=True) + 1e-5)
    if kind == "layer":
        _, x_hat, _ = accel.layer_norm_forward(x, None, None, 1e-5)
    else:
        _, x_hat, *_ = accel.batch_norm_forward(x, None, None, 1e-5)
    eps32 = np.finfo(np.float32).eps
    np.testing.assert_allclose(x_hat, truth, rtol=0, atol=4 * eps32 * np.max(np.abs(truth)))
