"""The float64 scalar helpers (``ffnn.ops.special_float64``) against mpmath at 40 digits,
counted in float64 ulps, compiled (as the kernels run them) and in their Python form."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from ffnn import accel
from ffnn.ops import special_float64
from tests.ops._scalar_helpers import compiled_loop

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)
SUBNORMAL_STEP = 2.0 ** -1074


_compiled = compiled_loop


def _exact(function, x: np.ndarray) -> list:
    with mpmath.workdps(40):
        return [function(mpmath.mpf(float(v))) for v in x]


def _ulps(got: np.ndarray, exact: list) -> np.ndarray:
    """|got - exact| in units of float64's spacing at |exact| (exact at 40 digits)."""
    with mpmath.workdps(40):
        return np.array([float(abs(mpmath.mpf(float(g)) - e) / math.ulp(float(e)))
                         for g, e in zip(got, exact)])


_rng = np.random.default_rng(0)
GRIDS = {
    "exp_small_f64": (mpmath.exp, np.concatenate([
        np.linspace(-745, 1, 6_001), -np.geomspace(1e-300, 745, 2_001),
        _rng.uniform(-1, 0, 4_000), [0.0, -0.0, -708.39, -708.4, -744.44]])),
    "expm1_small_f64": (mpmath.expm1, np.concatenate([
        np.linspace(-745, 0, 4_001), -np.geomspace(1e-300, 745, 2_001),
        _rng.uniform(-1, 0, 4_000), -np.nextafter(np.log(2.0), [0.0, 1.0]), [0.0, -0.0]])),
    "log1p_small_f64": (mpmath.log1p, np.concatenate([
        np.linspace(0, 1, 4_001), np.geomspace(1e-300, 1, 2_001), _rng.uniform(0, 1, 4_000),
        np.sqrt(2.0) - 1 + np.array([-1e-16, 0.0, 1e-16])])),
    "tanh_fast_f64": (mpmath.tanh, np.concatenate([
        np.linspace(-20, 20, 6_001), np.geomspace(1e-300, 20, 2_001),
        -np.geomspace(1e-300, 20, 2_001), _rng.uniform(-0.8, 0.8, 4_000),
        np.nextafter(0.625, [0.0, 1.0]), [0.0, 0.625, -0.625, 40.0]])),
}


@pytest.mark.parametrize("name", list(GRIDS))
def test_within_two_ulps_of_the_exact_value(name):
    reference, x = GRIDS[name]
    got = _compiled(name)(x)
    exact = _exact(reference, x)
    normal = np.array([abs(e) >= SMALLEST_NORMAL for e in exact])
    assert _ulps(got[normal], [e for e, n in zip(exact, normal) if n]).max() <= 2.0
    # subnormal results: within one step of float64's subnormal grid
    below = [float(abs(mpmath.mpf(float(g)) - e)) for g, e, n in zip(got, exact, normal) if not n]
    assert max(below, default=0.0) <= SUBNORMAL_STEP


@pytest.mark.parametrize("name", list(GRIDS))
def test_compiled_form_equals_the_python_form_to_an_ulp(name):
    """Compiled, ``a*b + c`` may be one fused multiply-add: one rounding fewer than the
    Python form's, so the two agree to an ulp, not bit for bit."""
    x = np.concatenate([np.linspace(-30, 1 if name == "exp_small_f64" else 30, 1_201),
                        [-1e-3, -3e-17, 0.0, -745.5]])
    if name == "expm1_small_f64":
        x = x[x <= 0]
    if name == "log1p_small_f64":
        x = np.concatenate([np.linspace(0, 1, 701), [1e-18, 3e-300, 0.41421356237309503]])
    compiled = _compiled(name)(x)
    python = np.array([getattr(special_float64, name)(float(v)) for v in x])
    spacing = np.spacing(np.maximum(np.abs(python), SMALLEST_NORMAL))
    assert (np.abs(compiled - python) <= spacing).all()


def test_exp_special_values():
    got = _compiled("exp_small_f64")(np.array([np.nan, -np.inf, -746.0, -800.0, 0.0, -0.0]))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [0.0, 0.0, 0.0, 1.0, 1.0])


def test_tanh_special_values_and_signs():
    got = _compiled("tanh_fast_f64")(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-300,
                                               1e-300]))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [1, -1, 0, -0.0, -1e-300, 1e-300])
    np.testing.assert_array_equal(np.signbit(got[3:]), [False, True, True, False])


def test_the_bit_casts_round_trip():
    for value in (1.0, -2.5, 1e-310, 1.7e308, 0.0):
        bits = special_float64.double_bits(value)
        assert -2**63 <= bits < 2**63
        assert special_float64.double_from_bits(bits) == value
    assert special_float64.double_bits(1.0) == 0x3FF0000000000000
