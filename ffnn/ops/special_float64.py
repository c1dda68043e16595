"""The scalar functions of the float64 kernels that vectorise: e^u, tanh, e^u - 1, log(1 + u),
the normal CDF Φ.

libm's ``exp``, ``tanh``, ``expm1``, ``log1p`` and ``erfc`` are calls a compiled loop cannot
put on SIMD lanes, so every element of a float64 activation paid one (tanh: ~30 ns).
``exp_small_f64``, ``tanh_fast_f64``, ``expm1_small_f64``, ``log1p_small_f64`` and
``normal_cdf_density_f64`` are the algorithms of ``special_float32``'s ``*_f32`` functions with
float64 constants and polynomials long enough for float64: a compiled loop over a float64
array runs them on 4 SIMD lanes (AVX2), with no call. Each is within a few ulps of the exact
value (the tests bound them against mpmath); libm's are within 1.

Called from Python on ``float`` arguments they compute the same float64 operations, which is
what the tests compare the compiled forms with.
"""

from __future__ import annotations

import math
import struct

_LOG2_E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01  # ln 2 in two parts (fdlibm's): the first has 21
_LN2_LOW = 1.90821492927058770002e-10  # trailing zero bits, so k·_LN2_HIGH is exact
_ROUNDER = 6755399441055744.0
"""1.5·2⁵²: ``v + _ROUNDER`` rounds v to an integer k, held in the low bits of the sum."""
_ROUNDER_BITS = 0x4338000000000000  # its bit pattern
_EXP_FLOOR = -746.0  # e^-746 < half the smallest subnormal: rounds to 0
_EXP_TERMS = tuple(1 / math.factorial(n) for n in range(2, 14))
"""e^r on |r| <= ln2/2: Taylor to degree 13 (remainder < 5e-18 relative)."""
_TANH_SWITCH = 0.625
_TANH_TERMS = (-0.3333333333333333, 0.13333333333333147, -0.05396825396812319,
               0.02186948853150126, -0.008863235431832796, 0.0035921267035050348,
               -0.001455822092786037, 0.0005899482208177509, -0.00023876733931274514,
               9.574290338297516e-05, -3.661313649244276e-05, 1.1783646124124909e-05,
               -2.2674921136208103e-06)
"""tanh a = a + a·z·P(z), z = a², on a < 0.625: P least-squares fitted (mpmath, Chebyshev
nodes) to 3.7e-18 relative error of tanh."""
_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = _EXP_TERMS
_EXPM1_TERMS = tuple(1 / math.factorial(n) for n in range(2, 18))
"""e^u - 1 on -ln 2 < u <= 0 by its Taylor polynomial of degree 17 (remainder < 4e-19
relative)."""
_EXPM1_SWITCH = -0.6931471805599453  # below -ln 2, e^u <= 1/2: e^u - 1 does not cancel
_LOG_TERMS = tuple(1 / n for n in range(3, 23, 2))
"""log m = 2 atanh s = 2s(1 + s²/3 + … + s²⁰/21) for |s| <= 0.1716 (remainder < 7e-19)."""
_SQRT2 = 1.4142135623730951
_SIGNIFICAND = (1 << 52) - 1
_ONE_BITS = 1023 << 52  # 1.0's bit pattern
(_X2, _X3, _X4, _X5, _X6, _X7, _X8, _X9, _X10, _X11, _X12, _X13, _X14, _X15, _X16,
 _X17) = _EXPM1_TERMS
_L3, _L5, _L7, _L9, _L11, _L13, _L15, _L17, _L19, _L21 = _LOG_TERMS
_T1, _T2, _T3, _T4, _T5, _T6, _T7, _T8, _T9, _T10, _T11, _T12, _T13 = _TANH_TERMS
_CDF_K = 5.0
_CDF_TERMS = (
    0.15383860995001258, -0.13307650057801138, 0.09906112319399524, -0.06270663133425627,
    0.03300407323407985, -0.013823727741414323, 0.004159013359884977, -0.0005986753517956957,
    -0.0001595738782032832, 0.00010897979367471258, -1.187515945860043e-05,
    -9.952465584915902e-06, 3.3363212479106128e-06, 7.958723027658431e-07,
    -5.541334715466739e-07, -6.670854282462108e-08, 8.726171035634645e-08,
    7.714289713451517e-09, -1.407567278189173e-08, -1.3881694748089734e-09,
    2.2478013401959428e-09, 2.5427518520556465e-10, -3.0672151143199094e-10,
    -2.6624214860214042e-11, 2.4938723294506293e-11)
"""C(s) = Φ(-a)·e^{a²/2}·(K + a)/K = Σ p_m s^m, s = (a - K)/(a + K), K = 5 (mpmath, 50
digits: ``tools/fit_normal_cdf_f64.py``)."""
(_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13, _C14, _C15, _C16,
 _C17, _C18, _C19, _C20, _C21, _C22, _C23, _C24) = _CDF_TERMS
_CDF_CAP = 39.0  # Φ(-39) < 1e-332: float64's 0
_HIGH_26_BITS = -(1 << 27)  # a float64's sign, exponent and leading 26 significand bits


def double_bits(x: float) -> int:
    """The IEEE-754 bit pattern of the float64 ``x`` as a signed 64-bit integer (compiled
    kernels: one register move, ``ffnn.kernels.bitcast``)."""
    return struct.unpack("<q", struct.pack("<d", x))[0]


def double_from_bits(bits: int) -> float:
    """The float64 whose IEEE-754 bit pattern is the signed 64-bit integer ``bits``."""
    return struct.unpack("<d", struct.pack("<q", bits))[0]


def exp_small_f64(u: float) -> float:
    """e^u for u <= 1, within 2 ulps (subnormal results included; 0 below -746):
    ``exp_split_f64(u, 0)``."""
    return exp_split_f64(u, 0.0)


def exp_split_f64(high: float, low: float) -> float:
    """e^(high + low) for high <= 1 and |low| below high's last bits, the sum not rounded:
    within 2 ulps (subnormal results included; 0 below -746).

    e^u = 2ᵏ·e^r, k = round(high/ln 2), r = high - k ln 2 + low (ln 2 in two parts, the first
    product exact, and so is its difference with high), e^r by its degree-13 Taylor
    polynomial, 2ᵏ as 2^⌊k/2⌋ · 2^(k-⌊k/2⌋) built from exponent bits (each factor normal
    down to k = -1076, so a subnormal result is rounded once, by the last product).
    """
    u = max(high, _EXP_FLOOR)
    shifted = u * _LOG2_E + _ROUNDER
    k = shifted - _ROUNDER
    r = ((u - k * _LN2_HIGH) - k * _LN2_LOW) + low
    p = _E12 + r * _E13
    p = _E11 + r * p
    p = _E10 + r * p
    p = _E9 + r * p
    p = _E8 + r * p
    p = _E7 + r * p
    p = _E6 + r * p
    p = _E5 + r * p
    p = _E4 + r * p
    p = _E3 + r * p
    p = _E2 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    whole = double_bits(shifted) - _ROUNDER_BITS
    half = whole >> 1
    return (p * double_from_bits((half + 1023) << 52)) * \
        double_from_bits((whole - half + 1023) << 52)


def tanh_fast_f64(x: float) -> float:
    """tanh x within 2 ulps: a + a·z·P(z) (z = a², a = |x|) below 0.625, where (1 - e)/(1 + e)
    would cancel, else (1 - e)/(1 + e) with e = e^{-2a} (1 - e >= 0.71); the sign of x. Both
    are computed and one selected, so the compiled loop has no branch."""
    a = abs(x)
    e = exp_small_f64(-2.0 * a)
    z = a * a
    p = _T12 + z * _T13
    p = _T11 + z * p
    p = _T10 + z * p
    p = _T9 + z * p
    p = _T8 + z * p
    p = _T7 + z * p
    p = _T6 + z * p
    p = _T5 + z * p
    p = _T4 + z * p
    p = _T3 + z * p
    p = _T2 + z * p
    p = _T1 + z * p
    series = a + a * z * p
    t = (1.0 - e) / (1.0 + e) if a >= _TANH_SWITCH else series
    return math.copysign(t, x)


def expm1_small_f64(u: float) -> float:
    """e^u - 1 for u <= 0, within 2 ulps: its Taylor polynomial of degree 17 above -ln 2
    (where e^u - 1 would cancel), else e^u - 1 (e^u <= ½, so the difference is exact to an
    ulp). Both are computed and one selected."""
    p = _X16 + u * _X17
    p = _X15 + u * p
    p = _X14 + u * p
    p = _X13 + u * p
    p = _X12 + u * p
    p = _X11 + u * p
    p = _X10 + u * p
    p = _X9 + u * p
    p = _X8 + u * p
    p = _X7 + u * p
    p = _X6 + u * p
    p = _X5 + u * p
    p = _X4 + u * p
    p = _X3 + u * p
    p = _X2 + u * p
    series = u + u * u * p
    whole = exp_small_f64(u) - 1.0
    return series if u > _EXPM1_SWITCH else whole


def log1p_small_f64(u: float) -> float:
    """log(1 + u) for u in [0, 1], within 2 ulps: 2 atanh s by its odd series to s²¹.

    Below u = √2 - 1, s = u/(2 + u) from u itself. Above, 1 + u = 2m with m in [√½, 1]
    (w = 1 + u rounded, halved exactly), s = (m - 1)/(m + 1), plus ln 2 (in two parts) and
    c = (u - (w - 1))/w, the logarithm of w's rounding error to first order. Both are
    computed and one selected."""
    w = 1.0 + u
    c = (u - (w - 1.0)) / w
    m = w * 0.5
    big = w > _SQRT2
    s = (m - 1.0) / (m + 1.0) if big else u / (2.0 + u)
    log_m = atanh_series_f64(s)
    return _LN2_HIGH + (log_m + c + _LN2_LOW) if big else log_m


def atanh_series_f64(s: float) -> float:
    """2 atanh s = log((1 + s)/(1 - s)) for |s| <= 0.1716: 2s(1 + s²/3 + … + s²⁰/21)
    (remainder < 7e-19 relative)."""
    z = s * s
    p = _L19 + z * _L21
    p = _L17 + z * p
    p = _L15 + z * p
    p = _L13 + z * p
    p = _L11 + z * p
    p = _L9 + z * p
    p = _L7 + z * p
    p = _L5 + z * p
    p = _L3 + z * p
    return 2.0 * s + 2.0 * s * z * p


def log_f64(x: float) -> float:
    """log x for x >= 1 (a softmax's sum), within 2 ulps; NaN gives NaN.

    x = 2ᵏ·m read from x's bits, m in [√½, √2) (halved, k + 1, above √2: exact), then
    log x = k ln 2 + 2 atanh s, s = (m - 1)/(m + 1) (|s| <= 0.1716: ``atanh_series_f64``),
    k·``_LN2_HIGH`` exact. One division and no libm call, so that a compiled loop
    over many sums runs on SIMD lanes."""
    bits = double_bits(x)
    m = double_from_bits((bits & _SIGNIFICAND) | _ONE_BITS)
    big = m > _SQRT2
    k = float((bits >> 52) - 1023) + (1.0 if big else 0.0)
    m = m * 0.5 if big else m
    log_x = k * _LN2_HIGH + (atanh_series_f64((m - 1.0) / (m + 1.0)) + k * _LN2_LOW)
    return log_x if x == x else x


def normal_cdf_f64(x: float) -> float:
    """Φ(x), the standard normal CDF, for float64 x: ``normal_cdf_density_f64(x)[0]``."""
    return normal_cdf_density_f64(x)[0]


def normal_cdf_density_f64(x: float) -> tuple[float, float]:
    """(Φ(x), e^{-x²/2}) for float64 x, each within a few ulps wherever it is a normal float64
    (the tests bound them against mpmath), with no call and no branch: the loop vectorises.

    Φ(-a) = e^{-a²/2}·t·C(s) for a = |x| (capped at 39, where Φ(-a) is float64's 0), with
    t = K/(K + a), s = 1 - 2t = (a - K)/(a + K) in [-1, 1) and C(s) = Φ(-a)·e^{a²/2}/t a
    polynomial of degree 24 in s, C's Chebyshev series cut where the rest is below 7e-18 of
    C (``tools/fit_normal_cdf_f64.py``), evaluated as E(s²) + s·O(s²) (two chains of
    multiply-adds, each half as long as one); Φ(a) = 1 - Φ(-a) for x > 0. a² is exact: h (a to
    26 bits) squared is, and a² - h² = (a - h)(a + h) goes to ``exp_split_f64`` as the low
    part of the exponent (rounded a², e^{-a²/2} would be off by up to 1.1e-16·a²/2 relative).
    GELU's forward keeps its slope Φ(x) + x·e^{-x²/2}/√(2π) from the same e^{-x²/2}.
    """
    a = min(abs(x), _CDF_CAP)
    h = double_from_bits(double_bits(a) & _HIGH_26_BITS)
    e = exp_split_f64(-(h * h) * 0.5, -((a - h) * (a + h)) * 0.5)
    t = _CDF_K / (_CDF_K + a)
    s = 1.0 - 2.0 * t
    z = s * s
    even = _C22 + z * _C24
    even = _C20 + z * even
    even = _C18 + z * even
    even = _C16 + z * even
    even = _C14 + z * even
    even = _C12 + z * even
    even = _C10 + z * even
    even = _C8 + z * even
    even = _C6 + z * even
    even = _C4 + z * even
    even = _C2 + z * even
    even = _C0 + z * even
    odd = _C21 + z * _C23
    odd = _C19 + z * odd
    odd = _C17 + z * odd
    odd = _C15 + z * odd
    odd = _C13 + z * odd
    odd = _C11 + z * odd
    odd = _C9 + z * odd
    odd = _C7 + z * odd
    odd = _C5 + z * odd
    odd = _C3 + z * odd
    odd = _C1 + z * odd
    p = even + s * odd
    lower = e * (t * p)
    return (lower if x < 0.0 else 1.0 - lower), e
