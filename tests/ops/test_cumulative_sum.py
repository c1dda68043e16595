"""``cumsum`` by the compiled loop (``accel.cumulative_sum``): NumPy's sums bit for bit
(the same additions in the same order) along any axis, forward and reversed, and torch's
values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import accel
from tests.helpers import check_op

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, axis", [((300, 40), 1), ((300, 40), 0), ((6, 50, 30), 1),
                                         ((9000,), 0), ((4, 5, 600), 2)])
def test_it_is_numpys_cumsum(shape, axis, dtype, monkeypatch):
    monkeypatch.setattr(accel, "enabled", True)  # also where FFNN_ACCEL=0 turned it off
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    x.flat[0] = -0.0  # the first term is taken as it is, not added to 0
    forward = accel.cumulative_sum(x, axis, reverse=False)
    backward = accel.cumulative_sum(x, axis, reverse=True)
    assert forward.tobytes() == np.cumsum(x, axis=axis).tobytes()
    reversed_sum = np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)
    assert backward.tobytes() == reversed_sum.tobytes()


def test_what_it_does_not_take(monkeypatch):
    monkeypatch.setattr(accel, "enabled", True)
    assert accel.cumulative_sum(np.arange(9000), 0, reverse=False) is None  # integers
    assert accel.cumulative_sum(np.ones(10), 0, reverse=False) is None  # small


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_values_and_gradients_follow_torch(dim):
    x = np.random.default_rng(1).standard_normal((120, 50))
    check_op(lambda lib, a: lib.cumsum(a, dim=dim) * a, x, finite_differences=False)
    y = ffnn.tensor(x).cumsum(dim)
    np.testing.assert_array_equal(y.numpy(), np.cumsum(x, axis=dim % 2))



@pytest.mark.parametrize("accelerated", [True, False])
@pytest.mark.parametrize("shape, dim", [((10000,), 0), ((300, 40), 0), ((40, 300), 1),
                                        ((7, 30), 1)])
def test_float32_running_sums_and_products_are_torchs_to_the_bit(shape, dim, accelerated,
                                                                 monkeypatch):
    """torch's CPU cumsum / cumprod accumulate float32 in double and round each running
    value to float32 (10,000 times 0.1 is 1000., the float32 additions give 999.9): forward
    and the gradient (a reversed cumsum) bit for bit; float16 accumulates in float32."""
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(accel, "enabled", accelerated)
    rng = np.random.default_rng(2)
    x = (0.1 + rng.standard_normal(shape) * 0.01).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    factors = (1 + rng.standard_normal(shape) * 0.01).astype(np.float32)
    results = []
    for lib in (torch, ffnn):
        t = lib.tensor(x, requires_grad=True)
        out = t.cumsum(dim)
        out.backward(lib.tensor(g))
        products = lib.tensor(factors).cumprod(dim)
        half = lib.tensor(x, dtype=lib.float16).cumsum(dim)
        results.append([out.detach().numpy(), t.grad.numpy(), products.numpy(), half.numpy()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_array_equal(ours, theirs)
