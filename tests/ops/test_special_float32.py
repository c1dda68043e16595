"""The float32 scalar helpers (``ffnn.ops.special_float32``) against libm in float64, counted
in float32 ulps over dense grids, compiled (as the kernels run them) and in their Python form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ffnn import accel
from ffnn.ops import special_float32
from tests.ops._scalar_helpers import compiled_loop

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)
SUBNORMAL_STEP = 2.0 ** -149


_compiled = compiled_loop


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got - exact| in units of float32's spacing at |exact| (normal results only)."""
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - exact) / spacing


GRIDS = {
    "exp_small_f32": (np.exp, np.concatenate([
        np.linspace(-104, 1, 300_001), -np.geomspace(1e-9, 104, 20_001), [0.0, -0.0]])),
    "expm1_small_f32": (np.expm1, np.concatenate([
        np.linspace(-104, 0, 300_001), -np.geomspace(1e-30, 104, 20_001), [0.0, -0.0]])),
    "log1p_small_f32": (np.log1p, np.concatenate([
        np.linspace(0, 1, 300_001), np.geomspace(1e-40, 1, 20_001)])),
    "tanh_fast_f32": (np.tanh, np.concatenate([
        np.linspace(-12, 12, 300_001), np.geomspace(1e-30, 12, 20_001),
        -np.geomspace(1e-30, 12, 20_001), [0.0, 30.0, -30.0]])),
}


@pytest.mark.parametrize("name", list(GRIDS))
def test_within_two_ulps_of_libm(name):
    reference, grid = GRIDS[name]
    x = grid.astype(np.float32)
    got = _compiled(name)(x)
    exact = reference(x.astype(np.float64))
    normal = np.abs(exact) >= SMALLEST_NORMAL
    assert _ulps(got, exact)[normal].max() <= 2.0
    # subnormal results: within one step of float32's subnormal grid
    assert np.abs(got.astype(np.float64) - exact)[~normal].max(initial=0.0) <= SUBNORMAL_STEP


@pytest.mark.parametrize("name", [*GRIDS, "normal_cdf_f32"])
def test_compiled_form_equals_the_python_form_to_an_ulp(name):
    """Compiled, ``a*b + c`` may be one fused multiply-add: one rounding fewer than the
    Python form's float32 operations, so the two agree to an ulp, not bit for bit."""
    x = np.concatenate([np.linspace(-20, 1, 701), [-1e-3, -3e-7, 0.0, -103.5]]).astype(np.float32)
    if name == "expm1_small_f32":
        x = x[x <= 0]
    if name == "log1p_small_f32":
        x = np.concatenate([np.linspace(0, 1, 701), [1e-8, 3e-30, 0.41421354]]).astype(np.float32)
    if name in ("tanh_fast_f32", "normal_cdf_f32"):
        x = np.concatenate([x, np.linspace(0.5, 12, 301).astype(np.float32)])
    compiled = _compiled(name)(x)
    python = np.array([getattr(special_float32, name)(v) for v in x], np.float32)
    spacing = np.spacing(np.maximum(np.abs(python), SMALLEST_NORMAL)).astype(np.float64)
    assert (np.abs(compiled.astype(np.float64) - python) <= spacing).all()


def test_exp_special_values():
    exp = _compiled("exp_small_f32")
    got = exp(np.array([np.nan, -np.inf, -104.0, -120.0, 0.0, -0.0, 1.0], np.float32))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:4], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(got[4:6], [1.0, 1.0])
    assert _ulps(got[6:], np.array([math.e])).max() <= 2.0


def test_tanh_special_values_and_signs():
    tanh = _compiled("tanh_fast_f32")
    got = tanh(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1e-30, 1e-30], np.float32))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], np.array([1, -1, 0, -0.0, -1e-30, 1e-30], np.float32))
    np.testing.assert_array_equal(np.signbit(got[3:]), [False, True, True, False])


def test_the_bit_casts_round_trip():
    for value in (1.0, -2.5, 1e-40, 3.4e38, 0.0):
        bits = special_float32.float_bits(np.float32(value))
        assert -2**31 <= bits < 2**31
        assert special_float32.float_from_bits(bits) == np.float32(value)
    assert special_float32.float_bits(np.float32(1.0)) == 0x3F800000


def test_normal_cdf_within_its_bounds_of_the_exact_value():
    """Φ's bounds (``normal_cdf_f32``): 5 ulps below |x| = 1.19, 6 to 1.77, 5.5e-7 relative
    wherever Φ is a normal float32 (the tail included: e^{-x²/2} from an exact x²), and one
    subnormal step more where it is subnormal."""
    from scipy.special import ndtr

    x = np.concatenate([np.linspace(-14.5, 8, 600_001), np.geomspace(1e-30, 1, 2_001),
                        -np.geomspace(1e-30, 1, 2_001), [0.0, -0.0]]).astype(np.float32)
    got = _compiled("normal_cdf_f32")(x).astype(np.float64)
    exact = ndtr(x.astype(np.float64))
    ulps = _ulps(got, exact)
    a = np.abs(x)
    assert ulps[a < 1.1932].max() <= 5.0
    assert ulps[a < 1.7677].max() <= 6.0
    normal = exact >= SMALLEST_NORMAL
    assert (np.abs(got - exact)[normal] <= 5.5e-7 * exact[normal]).all()
    assert (np.abs(got - exact)[~normal] <= 5.5e-7 * exact[~normal] + SUBNORMAL_STEP).all()
    assert (~normal).sum() > 1000  # the grid reaches the subnormal tail


def test_normal_cdf_special_values():
    cdf = _compiled("normal_cdf_f32")
    got = cdf(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 30.0, -30.0], np.float32))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [1.0, 0.0, 0.5, 0.5, 1.0, 0.0])
