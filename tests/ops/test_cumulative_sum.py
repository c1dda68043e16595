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

