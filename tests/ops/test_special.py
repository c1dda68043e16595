"""erf/erfc in pure NumPy (SciPy disabled) against math.erf/erfc."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ffnn.ops import special

GRID = np.concatenate([np.linspace(-8, 8, 3201), [-30.0, -26.0, -6.0, 2.4999, 2.5, 2.5001,
                                                  5.0, 12.0, 20.0, 26.0, 27.0, 40.0]])


@pytest.fixture(autouse=True)
def _pure_numpy(monkeypatch):
    monkeypatch.setattr(special, "use_scipy", False)


def test_erf_matches_math():
    expected = np.array([math.erf(v) for v in GRID])
    np.testing.assert_allclose(special.erf(GRID), expected, rtol=1e-13, atol=1e-15)


def test_erfc_matches_math_including_tails():
    expected = np.array([math.erfc(v) for v in GRID])
    # 1 - erf(x) just below the switch at 2.5 loses ~3 digits: erfc(2.4) ≈ 7e-4
    np.testing.assert_allclose(special.erfc(GRID), expected, rtol=5e-12, atol=0)


def test_float32_in_float32_out_and_scalars():
    x = np.array([-1.0, 0.0, 3.0], np.float32)
    assert special.erf(x).dtype == np.float32 and special.erfc(x).dtype == np.float32
    assert float(special.erf(np.float64(0.5))) == pytest.approx(math.erf(0.5), rel=1e-14)
    assert float(special.erfc(np.array(3.0))) == pytest.approx(math.erfc(3.0), rel=1e-13)
