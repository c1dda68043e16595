"""Each activation's compiled path (forward and backward generated from its formula in
``ffnn.ops.activations``) computes what its NumPy reference computes and follows torch, in
float32 and float64, over the whole real line. The compiled path is spied on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel
from ffnn.nn import functional as F
from ffnn.ops.pointwise import Pointwise

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

ACTIVATIONS = {
    "relu": (F.relu, torch.relu),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2),
                   lambda x: torch.nn.functional.leaky_relu(x, 0.2)),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "silu": (F.silu, torch.nn.functional.silu),
    "gelu": (F.gelu, torch.nn.functional.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: torch.nn.functional.gelu(x, approximate="tanh")),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: torch.nn.functional.elu(x, 0.7)),
    "selu": (F.selu, torch.nn.functional.selu),
    "softplus": (lambda x: F.softplus(x, 1.5, 15.0),
                 lambda x: torch.nn.functional.softplus(x, 1.5, 15.0)),
    "hardtanh": (lambda x: F.hardtanh(x, -1.0, 3.0),
                 lambda x: torch.nn.functional.hardtanh(x, -1.0, 3.0)),
    "relu6": (F.relu6, torch.nn.functional.relu6),
    "hardsigmoid": (F.hardsigmoid, torch.nn.functional.hardsigmoid),
    "hardswish": (F.hardswish, torch.nn.functional.hardswish),
    "mish": (F.mish, torch.nn.functional.mish),
    "erf": (ffnn.erf, torch.erf),  # not an activation, but a Pointwise op as they are
}
PIECEWISE_LINEAR = ("relu", "leaky_relu", "hardtanh", "relu6")
"""Products by 1, 0 or a slope, and comparisons: compiled and reference agree exactly."""
TOLERANCES = {np.float64: (1e-12, 1e-14), np.float32: (2e-6, 2e-7)}


def _inputs(dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-40, 40, 4001), rng.standard_normal(3985) * 3,
                        [0.0, -0.0, 1e-8, -1e-8, 3e-4, -5e-4, 700.0, -700.0],
                        [-3.0, 3.0, 6.0, -1.0, 1.0, -6.0]])  # corners
    grad = rng.standard_normal(x.size)
    return x.astype(dtype).reshape(80, 100), grad.astype(dtype).reshape(80, 100)


def _run(name: str, x: np.ndarray, grad: np.ndarray, compiled: bool, monkeypatch):
    monkeypatch.setattr(accel, "enabled", compiled)
    calls = []
    original = Pointwise.forward
    monkeypatch.setattr(Pointwise, "forward",
                        lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    t = ffnn.tensor(x, requires_grad=True)
    y = ACTIVATIONS[name][0](t)
    y.backward(ffnn.tensor(grad))
    assert len(calls) == int(compiled)
    return y.numpy(), t.grad.numpy()


def _grad_atol(name: str, dtype, atol: float) -> float:
    """gelu_tanh's backward uses 1 - t² with t ≈ -1 saved in the input's dtype: for x near
    -5, float32's spacing of t (6e-8) times x·√(2/π)(1 + 0.134x²) ≈ 30 leaves ~2e-6 of
    cancellation in every implementation (reference, torch, compiled)."""
    return 1e-5 if name == "gelu_tanh" and dtype == np.float32 else atol * 10


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_compiled_activation_equals_the_reference(name, dtype, monkeypatch):
    x, grad = _inputs(dtype)
    y_fast, g_fast = _run(name, x, grad, True, monkeypatch)
    y_ref, g_ref = _run(name, x, grad, False, monkeypatch)
    assert y_fast.dtype == g_fast.dtype == dtype
    rtol, atol = TOLERANCES[dtype]
    np.testing.assert_allclose(y_fast, y_ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(g_fast, g_ref, rtol=rtol, atol=_grad_atol(name, dtype, atol))
    if name in PIECEWISE_LINEAR:
        np.testing.assert_array_equal(y_fast, y_ref)
        np.testing.assert_array_equal(np.signbit(y_fast), np.signbit(y_ref))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_compiled_activation_follows_torch(name, dtype, monkeypatch):
    x, grad = _inputs(dtype)
    y_fast, g_fast = _run(name, x, grad, True, monkeypatch)
    tx = torch.tensor(x, requires_grad=True)
    ty = ACTIVATIONS[name][1](tx)
    ty.backward(torch.tensor(grad))
    rtol, atol = (1e-10, 1e-12) if dtype == np.float64 else (1e-5, 1e-6)
    np.testing.assert_allclose(y_fast, ty.detach().numpy(), rtol=rtol, atol=atol)
    expected = tx.grad.numpy()
    if name == "hardsigmoid" and dtype == np.float64:  # torch's 1/6 is rounded to float32
        expected = np.where(expected != 0, grad / 6, 0)
        assert np.allclose(expected, tx.grad.numpy(), rtol=1e-7, atol=0)
    np.testing.assert_allclose(g_fast, expected, rtol=rtol,
                               atol=max(atol, _grad_atol(name, dtype, atol)))


def test_relu_keeps_nan_and_negative_zero_as_the_reference(monkeypatch):
    x, grad = _inputs(np.float32)
    x.flat[:3] = [np.nan, np.inf, -np.inf]
    with np.errstate(invalid="ignore"):
        fast = _run("relu", x, grad, True, monkeypatch)
        ref = _run("relu", x, grad, False, monkeypatch)
    for a, b in zip(fast, ref):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu_tanh"])
def test_compiled_path_detects_a_saved_tensor_changed_in_place(name, monkeypatch):
    """Saved arrays are kept where autograd's version check sees them, as on the reference:
    sigmoid and tanh keep their output, the tanh form of GELU its input."""
    monkeypatch.setattr(accel, "enabled", True)
    x, _ = _inputs(np.float32)
    source = ffnn.tensor(x.copy(), requires_grad=True) * 1.0
    y = ACTIVATIONS[name][0](source)
    (source if name == "gelu_tanh" else y).mul_(3)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("name", ["silu", "gelu"])
def test_an_activation_keeping_its_slope_ignores_its_input_changed_afterwards(
        name, compiled, monkeypatch):
    """SiLU and GELU keep f'(x) from the forward, not x: their input changed in place after
    the forward leaves dL/dx as it was (torch, which keeps x, would raise instead)."""
    monkeypatch.setattr(accel, "enabled", compiled)
    x, grad = _inputs(np.float32)
    gradients = []
    for change in (False, True):
        t = ffnn.tensor(x.copy(), requires_grad=True)
        source = t * 1.0
        y = ACTIVATIONS[name][0](source)
        if change:
            source.mul_(3)
        y.backward(ffnn.tensor(grad))
        gradients.append(t.grad.numpy())
    np.testing.assert_array_equal(gradients[1], gradients[0])


@pytest.mark.parametrize("name", ["sigmoid", "gelu", "silu"])
def test_non_contiguous_inputs_take_the_kernel(name, monkeypatch):
    """A slice or a transpose (GLU's halves, a column block) is copied once and takes the
    compiled path, with the reference's values."""
    monkeypatch.setattr(accel, "enabled", True)
    x = np.random.default_rng(3).standard_normal((200, 96))
    calls = []
    original = Pointwise.forward
    monkeypatch.setattr(Pointwise, "forward",
                        lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    ours = ffnn.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = ACTIVATIONS[name][0](ours[:, 48:].T)
    expected = ACTIVATIONS[name][1](theirs[:, 48:].T)
    assert calls
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-14)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


def _inference_inputs(dtype, repeat: int) -> np.ndarray:
    """The inputs of ``_inputs`` with -inf, inf and NaN, ``repeat`` times (from 2¹⁸ elements
    the loop runs split over OpenBLAS's threads)."""
    x, _ = _inputs(dtype)
    x.flat[:3] = [np.nan, np.inf, -np.inf]
    return np.tile(x.reshape(-1), repeat)


@pytest.mark.parametrize("repeat", [1, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_inference_writes_the_forwards_values_alone(name, dtype, repeat, monkeypatch):
    """Under ``no_grad`` the op runs its inference loop (y alone, nothing kept): the values
    of the training forward, bit for bit, NaN where it has NaN and the sign of zero included
    (a NaN's sign bit is left out: IEEE 754 leaves it to the instruction the compiler picks,
    and an AVX2 loop and an AVX-512 one pick differently); ReLU's are ``maximum(x, 0)``'s, as
    its NumPy inference has always returned."""
    monkeypatch.setattr(accel, "enabled", True)
    x = _inference_inputs(dtype, repeat)
    calls = []
    original = Pointwise.infer
    monkeypatch.setattr(Pointwise, "infer",
                        lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    with np.errstate(all="ignore"):
        with ffnn.no_grad():
            inferred = ACTIVATIONS[name][0](ffnn.tensor(x)).numpy()
        trained = ACTIVATIONS[name][0](ffnn.tensor(x, requires_grad=True)).detach().numpy()
        expected = np.maximum(x, 0) if name == "relu" else trained
    assert calls == [1] and inferred.dtype == dtype
    np.testing.assert_array_equal(inferred, expected)
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(inferred[numbers]), np.signbit(expected[numbers]))


def test_relu_inference_in_numpy_is_maximum(monkeypatch):
    monkeypatch.setattr(accel, "enabled", False)
    x = _inference_inputs(np.float32, 1)
    with ffnn.no_grad(), np.errstate(invalid="ignore"):
        y = F.relu(ffnn.tensor(x)).numpy()
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    np.testing.assert_array_equal(np.signbit(y), np.signbit(np.maximum(x, 0)))
