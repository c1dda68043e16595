"""Compute the Chebyshev series of ``ffnn.ops.special_float64.normal_cdf_density_f64``.

Φ(-a) = e^{-a²/2}·t·C(s) for a >= 0, with t = K/(K + a) and s = 1 - 2t = (a - K)/(a + K),
which maps a in [0, ∞) onto s in [-1, 1). C(s) = Φ(-a)·e^{a²/2}/t is smooth and bounded on
the whole range (0.5 at a = 0, 1/(K√(2π)) as a → ∞), so one polynomial serves every a: no
ranges, no branches in the compiled loop. Its Chebyshev coefficients are the discrete
Chebyshev transform of C at 64 nodes, at 50 digits (mpmath); the series is cut after
``TERMS`` (the dropped coefficients' sum bounds the error, relative to C's smallest value)
and written in powers of s (the kernel sums them as E(s²) + s·O(s²)), as well conditioned
here: the powers' coefficients alternate in sign and their absolute values sum to C(-1) = ½
(6 times C's smallest value), so rounding in the evaluation stays within a few ulps.
"""

from __future__ import annotations

import mpmath

K = 5
TERMS = 25
NODES = 64


def chebyshev_coefficients(k: int = K, nodes: int = NODES) -> list:
    """c_0 … c_{nodes-1} of C(s) = Σ c_n T_n(s), at 50 digits."""
    with mpmath.workdps(50):
        half = mpmath.mpf(1) / 2
        angles = [mpmath.pi * (j + half) / nodes for j in range(nodes)]
        values = []
        for angle in angles:
            s = mpmath.cos(angle)
            a = k * (1 + s) / (1 - s)
            values.append(mpmath.ncdf(-a) * mpmath.exp(a * a / 2) * (k + a) / k)
        coefficients = [2 * mpmath.fsum(v * mpmath.cos(n * angle) for v, angle in
                                        zip(values, angles)) / nodes for n in range(nodes)]
        coefficients[0] /= 2
        return coefficients


def power_coefficients(chebyshev: list) -> list:
    """p_0 … p_{n-1} with Σ p_m s^m = Σ c_n T_n(s) (T_{n+1} = 2s·T_n - T_{n-1}), exactly."""
    with mpmath.workdps(50):
        size = len(chebyshev)
        previous = [mpmath.mpf(1)] + [0] * (size - 1)
        current = [0, mpmath.mpf(1)] + [0] * (size - 2)
        powers = [chebyshev[0] * v for v in previous]
        for c in chebyshev[1:]:
            powers = [p + c * v for p, v in zip(powers, current)]
            previous, current = current, [2 * u - w for u, w in
                                          zip([0] + current[:-1], previous)]
        return powers


if __name__ == "__main__":
    c = chebyshev_coefficients()
    with mpmath.workdps(50):
        smallest = 1 / (K * mpmath.sqrt(2 * mpmath.pi))
        tail = mpmath.fsum(abs(x) for x in c[TERMS:]) / smallest
    powers = power_coefficients(c[:TERMS])
    print(f"K = {K}; C(s) = sum of p_m s^m, m < {TERMS}:")
    print(", ".join(repr(float(x)) for x in powers))
    print(f"dropped terms: at most {float(tail):.2g} of C, relative; "
          f"sum of |p_m|: {float(sum(abs(x) for x in powers)):.4f}")
