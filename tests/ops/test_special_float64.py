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
    "log_f64": (mpmath.log, np.concatenate([
        np.linspace(1, 17, 4_001), np.geomspace(1, 1e300, 2_001), _rng.uniform(1, 2, 4_000),
        np.sqrt(2.0) + np.array([-2.3e-16, 0.0, 2.3e-16]), 2.0 ** np.arange(1, 60),
        [1 + 2.0 ** -52, np.nextafter(2.0, 0), np.finfo(np.float64).max]])),
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
    if name == "log_f64":
        x = np.concatenate([np.linspace(1, 1e4, 1_201), [1 + 1e-15, 1.41421356237309515]])
    compiled = _compiled(name)(x)
    python = np.array([getattr(special_float64, name)(float(v)) for v in x])
    spacing = np.spacing(np.maximum(np.abs(python), SMALLEST_NORMAL))
    assert (np.abs(compiled - python) <= spacing).all()


def test_exp_special_values():
    got = _compiled("exp_small_f64")(np.array([np.nan, -np.inf, -746.0, -800.0, 0.0, -0.0]))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [0.0, 0.0, 0.0, 1.0, 1.0])


def test_log_of_one_is_zero_and_nan_stays_nan():
    got = _compiled("log_f64")(np.array([1.0, np.nan, -np.nan]))
    assert got[0] == 0.0 and np.isnan(got[1:]).all()
    assert special_float64.log_f64(1.0) == 0.0 and math.isnan(special_float64.log_f64(math.nan))


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


def _normal_cdf_grid() -> np.ndarray:
    """Every range of Φ's float64 kernel: both sides of 0, the tiny, the tail down to
    float64's subnormals and past the cap (39), where Φ(x) is 0 or 1."""
    rng = np.random.default_rng(1)
    return np.concatenate([np.linspace(-38.6, 9, 12_001), rng.uniform(-6, 6, 6_000),
                           -np.geomspace(1e-300, 38.6, 1_001), np.geomspace(1e-300, 9, 501),
                           [0.0, -0.0, -5.0, 5.0, -39.0, -40.0, 40.0]])


def _normal_cdf_and_density(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numba

    from ffnn.kernels.elementwise import scalar_helper

    helper = scalar_helper("normal_cdf_density_f64")

    @numba.njit(error_model="numpy")
    def apply(values, cdf, density):  # pragma: no cover - compiled
        for i in range(values.size):
            cdf[i], density[i] = helper(values[i])

    cdf, density = np.empty_like(x), np.empty_like(x)
    apply(x, cdf, density)
    return cdf, density


def test_normal_cdf_within_a_few_ulps_of_the_exact_value():
    """Φ (``normal_cdf_density_f64``) within 7 ulps of mpmath's wherever it is a normal float64
    (5.8 at worst measured, in the far tail; below 1 on average), two subnormal steps where it
    is subnormal (e^{-x²/2}, subnormal there, is rounded before its product with the series);
    e^{-x²/2} itself within 2 ulps (from an exact x²) and one subnormal step."""
    x = _normal_cdf_grid()
    cdf, density = _normal_cdf_and_density(x)
    exact_cdf = _exact(mpmath.ncdf, x)
    exact_density = _exact(lambda v: mpmath.exp(-v * v / 2), x)
    for got, exact, bound, steps in ((cdf, exact_cdf, 7.0, 2), (density, exact_density, 2.0, 1)):
        normal = np.array([e >= SMALLEST_NORMAL for e in exact])
        ulps = _ulps(got[normal], [e for e, n in zip(exact, normal) if n])
        assert ulps.max() <= bound
        below = [float(abs(mpmath.mpf(float(g)) - e)) for g, e, n in zip(got, exact, normal)
                 if not n]
        assert max(below, default=0.0) <= steps * SUBNORMAL_STEP
    assert _ulps(cdf, exact_cdf).mean() <= 1.5


def test_normal_cdf_compiled_is_its_python_form_to_an_ulp():
    x = _normal_cdf_grid()[::5]
    cdf, density = _normal_cdf_and_density(x)
    python = np.array([special_float64.normal_cdf_density_f64(float(v)) for v in x])
    for compiled, expected in ((cdf, python[:, 0]), (density, python[:, 1])):
        spacing = np.spacing(np.maximum(np.abs(expected), SMALLEST_NORMAL))
        assert (np.abs(compiled - expected) <= spacing).all()
    assert (_compiled("normal_cdf_f64")(x) == cdf).all()


def test_normal_cdf_special_values():
    cdf, density = _normal_cdf_and_density(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0,
                                                     45.0, -45.0]))
    assert np.isnan(cdf[0]) and np.isnan(density[0])
    np.testing.assert_array_equal(cdf[1:], [1.0, 0.0, 0.5, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(density[1:], [0.0, 0.0, 1.0, 1.0, 0.0, 0.0])


def test_normal_cdf_series_is_the_one_the_fitting_tool_computes():
    """The kernel's 25 coefficients are ``tools/fit_normal_cdf_f64.py``'s (mpmath at 50 digits,
    rounded to float64; to an ulp), and the series they make is C = Φ(-a)·e^{a²/2}·(K + a)/K."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "tools" / "fit_normal_cdf_f64.py"
    spec = importlib.util.spec_from_file_location("fit_normal_cdf_f64", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    powers = tool.power_coefficients(tool.chebyshev_coefficients()[:tool.TERMS])
    stored = np.array(special_float64._CDF_TERMS)  # to an ulp: mpmath's rounding may differ
    computed = np.array([float(p) for p in powers])
    assert np.all(np.abs(computed - stored) <= np.spacing(np.abs(stored)))
    assert tool.K == special_float64._CDF_K
    with mpmath.workdps(40):
        for a in (0.0, 0.3, 2.0, 5.0, 11.0, 30.0):
            s = (a - tool.K) / (a + tool.K)
            series = mpmath.fsum(p * mpmath.mpf(s) ** m for m, p in enumerate(powers))
            exact = mpmath.ncdf(-a) * mpmath.exp(mpmath.mpf(a) ** 2 / 2) * (tool.K + a) / tool.K
            assert abs(series / exact - 1) < 1e-16
