"""The scalar functions of the float32 kernels, in float32 arithmetic.

``exp_small_f32`` and ``tanh_fast_f32`` are the algorithms of ``ffnn.ops.special``'s
``exp_small`` and ``tanh_fast`` (and ``expm1_small_f32``, ``log1p_small_f32`` are e^u - 1
for ELU and log(1 + u) for Softplus) with float32 constants and float32 operations
throughout: a
compiled loop over a float32 array then runs them on 8 SIMD lanes (AVX2; 16 with AVX-512)
where the float64 forms run on 4 (8), with no conversion in between. Each is within 2
float32 ulps of the exact value (the tests bound them against libm in float64).

``normal_cdf_f32`` is GELU's Φ(x): where Φ is small (x < 0) its relative error is what
GELU's needs, so it is computed as Φ(-|x|) = e^{-x²/2}·P(|x|)/Q(|x|), relative to the value
on all of float32's range, with x² kept exact by splitting |x| in two parts.

Every constant is a ``numpy.float32``, so that numba types the arithmetic as float32 (a
Python float literal would promote it to float64); called from Python on ``np.float32``
arguments they compute the same float32 operations (NumPy's scalar rules), which is what the
tests compare the compiled forms with.
"""

from __future__ import annotations

import math
import struct

import numpy as np

_F = np.float32
_LOG2_E = _F(1.4426950408889634)
_LN2_HIGH = _F(0.693359375)  # ln 2 in two parts: 9 significant bits, so k·_LN2_HIGH is exact
_LN2_LOW = _F(-2.12194440e-4)
_ROUNDER = _F(12582912.0)
"""1.5·2²³: ``v + _ROUNDER`` rounds v to an integer k, held in the low bits of the sum."""
_ROUNDER_BITS = 0x4B400000  # its bit pattern
_EXP_FLOOR = _F(-104.0)  # e^-104 < half the smallest subnormal: rounds to 0
_ONE, _TWO, _HALF, _ZERO = _F(1.0), _F(2.0), _F(0.5), _F(0.0)
# e^r on |r| <= ln2/2: Taylor to degree 7 (remainder < 6e-9 relative); expm1 to degree 9
_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9 = (_F(1 / math.factorial(n)) for n in range(2, 10))
_EXPM1_SWITCH = _F(-0.6931472)  # below -ln 2, e^u <= 1/2 and e^u - 1 has no cancellation
# log m = 2 atanh s, s = (m - 1)/(m + 1), |s| <= 0.1716 for m in [√½, √2]: odd series to s⁹
_L3, _L5, _L7, _L9 = (_F(1 / n) for n in (3, 5, 7, 9))
_SQRT2 = _F(1.4142135)
# tanh a = a + a·z·P(z), z = a², on a < 0.625: P fitted to 4.4e-9 relative error of tanh
_TANH_SWITCH = _F(0.625)
_T1, _T2, _T3, _T4, _T5 = (_F(c) for c in (-0.3333328068256378, 0.13331441581249237,
                                           -0.05373971536755562, 0.02063908986747265,
                                           -0.0057049887254834175))


# Φ(-a) = e^{-a²/2}·P(a)/Q(a): P/Q fitted to Φ(-a)·e^{a²/2} on [0, 14.5] by tools/fit_normal_cdf.py
_CDF_CAP = _F(20.0)  # Φ(-20) = 3e-89: float32's 0
_HIGH_12_BITS = -(1 << 12)  # a float32's sign, exponent and leading 12 significand bits
_P0, _P1, _P2, _P3, _P4 = (_F(c) for c in (
    0.5000000048210254, 0.44296816561444735, 0.18677650196545814, 0.04184937860314361,
    0.0043028645993903785))
_Q1, _Q2, _Q3, _Q4, _Q5 = (_F(c) for c in (
    1.6838215338731632, 1.2170413017521846, 0.4788373403866428, 0.1049060621284259,
    0.010785590237160804))


def float_bits(x: float) -> int:
    """The IEEE-754 bit pattern of the float32 ``x`` as a signed 32-bit integer (compiled
    kernels: one register move, ``ffnn.kernels.bitcast``)."""
    return struct.unpack("<i", struct.pack("<f", x))[0]


def float_from_bits(bits: int) -> np.float32:
    """The float32 whose IEEE-754 bit pattern is the signed 32-bit integer ``bits``."""
    return _F(struct.unpack("<f", struct.pack("<i", bits))[0])


def exp_small_f32(u: np.float32) -> np.float32:
    """e^u for float32 u <= 1, within 2 ulps (subnormal results included; 0 below -104):
    ``exp_split_f32(u, 0)``."""
    return exp_split_f32(u, _ZERO)


def exp_split_f32(high: np.float32, low: np.float32) -> np.float32:
    """e^(high + low) for float32 high <= 1 and |low| below high's last bits, the sum not
    rounded: within 2 ulps (subnormal results included; 0 below -104).

    e^u = 2ᵏ·e^r, k = round(high/ln 2), r = high - k ln 2 + low (ln 2 in two parts, the
    first product exact, and so is its difference with high), e^r by its degree-7 Taylor
    polynomial, 2ᵏ as 2^⌊k/2⌋ · 2^(k-⌊k/2⌋) built from exponent bits (each factor a normal
    float32 down to k = -150, so a subnormal result is rounded once, by the last product).
    """
    u = max(high, _EXP_FLOOR)
    shifted = u * _LOG2_E + _ROUNDER
    k = shifted - _ROUNDER
    r = ((u - k * _LN2_HIGH) - k * _LN2_LOW) + low
    p = _E6 + r * _E7
    p = _E5 + r * p
    p = _E4 + r * p
    p = _E3 + r * p
    p = _E2 + r * p
    p = _ONE + r * p
    p = _ONE + r * p
    whole = float_bits(shifted) - _ROUNDER_BITS
    half = whole >> 1
    return (p * float_from_bits((half + 127) << 23)) * float_from_bits((whole - half + 127) << 23)


def tanh_fast_f32(x: np.float32) -> np.float32:
    """tanh x within 2 ulps: a + a·z·P(z) (z = a², a = |x|) below 0.625, where (1 - e)/(1 + e)
    would cancel, else (1 - e)/(1 + e) with e = e^{-2a}; the sign of x. Both are computed
    and one selected, so the compiled loop has no branch."""
    a = abs(x)
    e = exp_small_f32(-_TWO * a)
    z = a * a
    series = a + a * z * (_T1 + z * (_T2 + z * (_T3 + z * (_T4 + z * _T5))))
    t = (_ONE - e) / (_ONE + e) if a >= _TANH_SWITCH else series
    return math.copysign(t, x)


def expm1_small_f32(u: np.float32) -> np.float32:
    """e^u - 1 for float32 u <= 0, within 2 ulps: its Taylor polynomial of degree 9 above
    -ln 2 (where e^u - 1 would cancel; remainder < 3e-9 relative), else e^u - 1 (e^u <= ½,
    so the difference is exact to an ulp). Both are computed and one selected."""
    series = u + u * u * (_E2 + u * (_E3 + u * (_E4 + u * (_E5 + u * (_E6 + u * (
        _E7 + u * (_E8 + u * _E9)))))))
    whole = exp_small_f32(u) - _ONE
    return series if u > _EXPM1_SWITCH else whole


def log1p_small_f32(u: np.float32) -> np.float32:
    """log(1 + u) for float32 u in [0, 1], within 2 ulps: log(1 + u) = 2 atanh s, by its odd
    series 2s(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9) for |s| <= 0.1716 (remainder < 3e-9).

    Below u = √2 - 1, s = u/(2 + u) from u itself. Above, 1 + u = 2m with m in [√½, 1]
    (w = 1 + u rounded, halved exactly), s = (m - 1)/(m + 1), plus ln 2 (in two parts) and
    c = (u - (w - 1))/w, the logarithm of w's rounding error to first order. Both are
    computed and one selected."""
    w = _ONE + u
    c = (u - (w - _ONE)) / w
    m = w * _HALF
    big = w > _SQRT2
    s = (m - _ONE) / (m + _ONE) if big else u / (_TWO + u)
    z = s * s
    log_m = _TWO * s + _TWO * s * z * (_L3 + z * (_L5 + z * (_L7 + z * _L9)))
    return _LN2_HIGH + (log_m + c + _LN2_LOW) if big else log_m


def normal_cdf_f32(x: np.float32) -> np.float32:
    """Φ(x), the standard normal CDF, for float32 x: ``normal_cdf_density_f32(x)[0]``."""
    return normal_cdf_density_f32(x)[0]


def normal_cdf_density_f32(x: np.float32) -> tuple[np.float32, np.float32]:
    """(Φ(x), e^{-x²/2}) for float32 x: Φ within 5.5e-7 relative of the exact value wherever
    it is a normal float32 (5.1e-7 and 8.1 ulps at worst over every float32 in [2⁻¹², 14];
    6 ulps below |x| = 1.77, 5 below 1.19), e^{-x²/2} within 2 ulps.

    Φ(-a) = e^{-a²/2}·P(a)/Q(a) for a = |x| (capped at 20, where Φ(-a) is float32's 0), and
    Φ(a) = 1 - Φ(-a) for x > 0. P/Q, of degrees 4 and 5 with positive coefficients, is fitted
    to Φ(-a)·e^{a²/2} to 1e-8 relative on [0, 14.5] (``tools/fit_normal_cdf.py``); its
    Horner evaluation adds up to ~5e-7 (positive terms, so no cancellation). a² is exact: h
    (a to 12 bits) squared is, and a² - h² = (a - h)(a + h) goes to ``exp_split_f32`` as the
    low part of the exponent (rounded a², e^{-a²/2} would be off by up to 3e-8·a² relative).
    GELU's forward keeps its slope Φ(x) + x·e^{-x²/2}/√(2π) from the same e^{-x²/2}.
    """
    a = min(abs(x), _CDF_CAP)
    h = float_from_bits(float_bits(a) & _HIGH_12_BITS)
    e = exp_split_f32(-(h * h) * _HALF, -((a - h) * (a + h)) * _HALF)
    p = _P0 + a * (_P1 + a * (_P2 + a * (_P3 + a * _P4)))
    q = _ONE + a * (_Q1 + a * (_Q2 + a * (_Q3 + a * (_Q4 + a * _Q5))))
    lower = e * (p / q)
    return (lower if x < _ZERO else _ONE - lower), e
