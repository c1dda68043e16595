"""The optional compiled kernels (ffnn.accel) compute what the pure-NumPy path computes:
both paths follow torch, and they agree with each other."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn, optim

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SHAPE = (96, 128)  # above accel.MIN_SIZE, so the kernels take it


def _trajectory(optimizer: str, options: dict, use_accel: bool, monkeypatch) -> np.ndarray:
    monkeypatch.setattr(accel, "enabled", use_accel)
    rng = np.random.default_rng(0)
    start = rng.standard_normal(SHAPE)
    param = nn.Parameter(start.copy())
    opt = getattr(optim, optimizer)([param], lr=1e-2, **options)
    for _ in range(20):
        param.grad = np.sin(3 * param.data) + np.tanh(param.data) - 0.3
        opt.step()
    return param.data


def _torch_trajectory(optimizer: str, options: dict) -> np.ndarray:
    rng = np.random.default_rng(0)
    param = torch.tensor(rng.standard_normal(SHAPE), requires_grad=True)
    opt = getattr(torch.optim, optimizer)([param], lr=1e-2, **options)
    for _ in range(20):
        with torch.no_grad():
            param.grad = torch.sin(3 * param) + torch.tanh(param) - 0.3
        opt.step()
    return param.detach().numpy()


@pytest.mark.parametrize("optimizer, options", [
    ("Adam", {}),
    ("Adam", {"weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"maximize": True, "betas": (0.8, 0.99)}),
    ("AdamW", {"weight_decay": 0.05}),
    ("AdamW", {"weight_decay": 0.05, "amsgrad": True, "eps": 1e-6}),
])
def test_fused_adam_follows_torch_and_the_numpy_path(optimizer, options, monkeypatch):
    fused = _trajectory(optimizer, options, True, monkeypatch)
    plain = _trajectory(optimizer, options, False, monkeypatch)
    np.testing.assert_allclose(fused, _torch_trajectory(optimizer, options), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(fused, plain, rtol=1e-12, atol=1e-14)


def test_fused_adam_keeps_float32_and_updates_in_place(monkeypatch):
    monkeypatch.setattr(accel, "enabled", True)
    param = nn.Parameter(np.ones(SHAPE, np.float32))
    data = param.data
    opt = optim.Adam([param], lr=0.1)
    param.grad = np.full(SHAPE, 0.5, np.float32)
    opt.step()
    assert param.data is data and data.dtype == np.float32
    np.testing.assert_allclose(data, 0.9, rtol=1e-6)  # first Adam step moves by lr


@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 1e-12, 1e-15),
                                               (np.float32, 3e-7, 1e-6)])
def test_gelu_kernels_match_the_numpy_path(dtype, rtol, atol, monkeypatch):
    x = np.concatenate([np.linspace(-9, 9, 5000), np.random.default_rng(1).standard_normal(
        5000) * 3]).astype(dtype).reshape(100, 100)
    grad = np.random.default_rng(2).standard_normal(x.shape).astype(dtype)
    results = []
    for use_accel in (True, False):
        monkeypatch.setattr(accel, "enabled", use_accel)
        t = ffnn.tensor(x, requires_grad=True)
        y = nn.functional.gelu(t)
        y.backward(grad)
        results.append((y.data, t.grad))
    (y_fast, g_fast), (y_ref, g_ref) = results
    np.testing.assert_allclose(y_fast, y_ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(g_fast, g_ref, rtol=rtol, atol=atol)  # float32: rounding of
    # Φ(x) + xφ(x) in a different order, never more than 1e-6 on |dL/dy| ~ 1


def test_gelu_kernel_follows_torch_in_float32(monkeypatch):
    monkeypatch.setattr(accel, "enabled", True)
    x = np.random.default_rng(3).standard_normal((64, 128)).astype(np.float32) * 4
    t = ffnn.tensor(x, requires_grad=True)
    y = nn.functional.gelu(t)
    y.sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.gelu(tx)
    ty.sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_switching_off_uses_numpy(monkeypatch):
    monkeypatch.setattr(accel, "enabled", False)
    assert not accel.usable(np.zeros(SHAPE))
    monkeypatch.setattr(accel, "enabled", True)
    assert accel.usable(np.zeros(SHAPE)) and not accel.usable(np.zeros(10))
    assert not accel.usable(np.zeros(SHAPE)[:, ::2])  # not contiguous: NumPy path
