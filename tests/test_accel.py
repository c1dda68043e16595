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
    data = param.numpy()
    opt = optim.Adam([param], lr=0.1)
    param.grad = np.full(SHAPE, 0.5, np.float32)
    opt.step()
    assert param.numpy() is data and data.dtype == np.float32
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_equal_the_numpy_path_bit_for_bit(dtype, monkeypatch):
    x = np.random.default_rng(4).standard_normal(SHAPE).astype(dtype)
    x.flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    grad = np.random.default_rng(5).standard_normal(SHAPE).astype(dtype)
    grad.flat[4:6] = [np.inf, np.nan]  # where x < 0: inf·0 = nan, as NumPy gives
    x.flat[4:6] = -1.0
    results = []
    for use_accel in (True, False):
        monkeypatch.setattr(accel, "enabled", use_accel)
        t = ffnn.tensor(x, requires_grad=True)
        with np.errstate(invalid="ignore"):  # NumPy's inf·0
            y = nn.functional.relu(t)
            y.backward(grad)
        results.append((y.data, t.grad))
    (y_fast, g_fast), (y_ref, g_ref) = results
    np.testing.assert_array_equal(y_fast, y_ref)
    np.testing.assert_array_equal(np.signbit(y_fast), np.signbit(y_ref))
    np.testing.assert_array_equal(g_fast, g_ref)
    tx = torch.tensor(x[1:], requires_grad=True)  # torch: NaN in, NaN out, as ours
    np.testing.assert_array_equal(torch.relu(tx).detach().numpy(), y_fast[1:] + 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, cols", [(1003, 1), (1003, 3), (1001, 8), (999, 30), (7, 31),
                                        (5, 33), (3, 100)])
def test_bias_kernel_equals_numpys_broadcast_bit_for_bit(rows, cols, dtype):
    """``accel.add_bias``: narrow rows as blocks of whole rows against the bias repeated
    (with rows left over after the last block), wide rows a row at a time; each element
    the one addition NumPy's ``y + b`` makes."""
    rng = np.random.default_rng(rows + cols)
    y = rng.standard_normal((rows, cols)).astype(dtype)
    b = rng.standard_normal(cols).astype(dtype)
    b[0] = np.inf
    expected = y + b
    assert accel.add_bias(y, b) is y
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_kernel_follows_torch_and_the_numpy_path(dtype, rtol, reduction,
                                                                monkeypatch):
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((128, 10)) * 5).astype(dtype)
    x[0, 3] = 80.0  # a dominant logit: the row max is subtracted before exp
    labels = rng.integers(0, 10, 128)
    results = []
    for use_accel in (True, False):
        monkeypatch.setattr(accel, "enabled", use_accel)
        t = ffnn.tensor(x, requires_grad=True)
        loss = nn.functional.cross_entropy(t, ffnn.tensor(labels), reduction=reduction)
        (loss * 3.0).backward()
        results.append((float(loss.data), t.grad))
    (l_fast, g_fast), (l_ref, g_ref) = results
    assert l_fast == pytest.approx(l_ref, rel=rtol)
    scale = float(np.abs(g_ref).max())  # p - 1 near 0 cancels: error relative to the scale
    np.testing.assert_allclose(g_fast, g_ref, rtol=rtol, atol=rtol * scale)
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tx, torch.tensor(labels), reduction=reduction)
    (tl * 3.0).backward()
    assert l_fast == pytest.approx(tl.item(), rel=max(rtol, 1e-10))
    np.testing.assert_allclose(g_fast, tx.grad.numpy(), rtol=max(rtol, 1e-10), atol=1e-6)


def test_cross_entropy_kernel_refuses_an_index_out_of_range(monkeypatch):
    from ffnn.ops.losses import CrossEntropyIndices

    monkeypatch.setattr(accel, "enabled", True)
    x = ffnn.tensor(np.zeros((4, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 2\] .* label 3 "):
        CrossEntropyIndices.apply(x, ffnn.tensor(np.array([0, 1, 3, 2])))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_mean_of_two_ranks_equals_numpy_bit_for_bit(dtype, monkeypatch):
    """ZeroRedundancyOptimizer's owner sum: (a + b) · ½ in one compiled pass is exactly
    NumPy's add then multiply (· ½ is exact); other divisors keep NumPy's division."""
    mpi4py = pytest.importorskip("mpi4py")  # noqa: F841 - ffnn.distributed needs it
    from ffnn.distributed.shared_memory import sum_divide

    rng = np.random.default_rng(7)
    a, b = (rng.standard_normal(SHAPE).astype(dtype) for _ in range(2))
    results = {}
    for use_accel in (True, False):
        monkeypatch.setattr(accel, "enabled", use_accel)
        for divisor in (2, 3):
            out = a.copy()
            sum_divide([out, b], divisor, out)
            results[use_accel, divisor] = out
    np.testing.assert_array_equal(results[True, 2], (a + b) * dtype(0.5))
    np.testing.assert_array_equal(results[True, 2], results[False, 2])
    np.testing.assert_array_equal(results[True, 3], (a + b) / dtype(3))


@pytest.mark.parametrize("name", ["Sigmoid", "SiLU", "GELU", "ELU", "Softplus"])
def test_multi_pass_activations_take_the_kernel_on_small_layers_and_follow_torch(
        name, monkeypatch):
    """An activation whose NumPy reference takes several passes runs its kernel from
    ``MULTI_PASS_MIN_SIZE`` elements (a [16, 32] layer), the one-pass ones from MIN_SIZE; both
    give torch's values and gradients."""
    from ffnn.ops import activations

    monkeypatch.setattr(accel, "enabled", True)
    x_np = np.random.default_rng(3).standard_normal((16, 32)) * 4
    assert activations.MULTI_PASS_MIN_SIZE <= x_np.size < accel.MIN_SIZE
    op = getattr(activations, name)
    fn = op()
    fn.needs_input_grad = (True,)
    fn.forward(x_np)
    assert fn.pointwise is not None  # the compiled path ran
    one_pass = activations.Tanh()
    one_pass.needs_input_grad = (True,)
    one_pass.forward(x_np)
    assert one_pass.pointwise is None  # np.tanh is quicker at this size
    x = ffnn.tensor(x_np, requires_grad=True)
    y = getattr(nn, name)()(x)
    (y * y).sum().backward()
    tx = torch.tensor(x_np, requires_grad=True)
    ty = getattr(torch.nn, name)()(tx)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_dense_hands_a_kernel_the_gradient_itself_or_a_contiguous_copy():
    g = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert accel.dense(g, (2, 3), np.dtype(np.float32)) is g  # no copy in the usual case
    for given, dtype in [(g.T.copy().T, np.float32), (np.float32(2.0), np.float32),
                         (g, np.float64), (g[:, :1], np.float32)]:
        out = accel.dense(given, (2, 3), np.dtype(dtype))
        assert out.flags.c_contiguous and out.shape == (2, 3) and out.dtype == dtype
        np.testing.assert_array_equal(out, np.broadcast_to(given, (2, 3)))
