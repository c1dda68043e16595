"""The scalar helpers of ``ffnn.ops.special`` that compiled float32 kernels use agree with the
NumPy reference ``erfc`` and with libm, in plain Python (no numba needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ffnn.ops import special

POINTS = np.concatenate([np.linspace(-12, 12.9, 721), [0.0, 1e-9, -1e-6, 3.9e-4, 4.1e-4]])


def test_erfc_fast_follows_the_reference_erfc_to_float32_precision():
    reference = special.erfc(POINTS)
    fast = np.array([special.erfc_fast(float(z)) for z in POINTS])
    np.testing.assert_allclose(fast, reference, rtol=1.2e-7, atol=0)
    assert 0 < special.erfc_fast(26.0) < 1e-80 and np.float32(special.erfc_fast(26.0)) == 0


@pytest.mark.parametrize("u", [-250.0, -200.0, -30.0, -1.0, -1e-8, 0.0, 0.5, 1.0])
def test_exp_small_is_exp_to_1e_13_on_its_range(u):
    assert special.exp_small(u) == pytest.approx(math.exp(max(u, -200.0)), rel=1e-13)


def test_tanh_fast_is_tanh_to_1e_10_including_near_zero():
    for x in POINTS:
        assert special.tanh_fast(float(x)) == pytest.approx(math.tanh(x), rel=1e-10, abs=0)
    assert math.copysign(1, special.tanh_fast(-0.0)) == -1
