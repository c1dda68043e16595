"""Fit the rational function of ``ffnn.ops.special_float32.normal_cdf_f32``.

Φ(-a) = e^{-a²/2}·M(a), M(a) = Φ(-a)·e^{a²/2} smooth and positive on a >= 0 (0.5 at 0,
~1/(a√(2π)) for large a). We fit M ≈ P(a)/Q(a) (degrees 4 and 5, Q(0) = 1) in relative
error on [0, 14.5], where float32's Φ(-a) ends, by Sanathanan–Koenig iteration (least squares
of P - M·Q weighted by 1/(M·Q_previous)) with Lawson's reweighting toward the minimax fit.
Needs SciPy (``ndtr``). Prints the coefficients and the fit's largest relative error
(~1.1e-8; float32 evaluation then adds its own rounding, which the tests bound)."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

A_MAX = 14.5
P_DEGREE, Q_DEGREE = 4, 5


def fit(points: int = 80_001, rounds: int = 200) -> tuple[np.ndarray, np.ndarray, float]:
    """(P's coefficients, Q's coefficients from degree 0, largest relative error)."""
    u = np.linspace(0.0, 1.0, points)  # a / A_MAX: keeps the least squares well conditioned
    a = u * A_MAX
    m = ndtr(-a) * np.exp(a * a / 2)
    vp = np.vander(u, P_DEGREE + 1, increasing=True)
    vq = np.vander(u, Q_DEGREE + 1, increasing=True)[:, 1:]
    q = np.ones_like(u)
    lawson = np.ones_like(u)
    best_error, best = np.inf, None
    for step in range(rounds):
        weight = lawson / (m * np.abs(q))
        system = np.hstack([vp, -m[:, None] * vq]) * weight[:, None]
        coefficients = np.linalg.lstsq(system, m * weight, rcond=None)[0]
        p = vp @ coefficients[:P_DEGREE + 1]
        q = 1 + vq @ coefficients[P_DEGREE + 1:]
        error = np.abs(p / q / m - 1).max()
        if error < best_error:
            best_error, best = error, coefficients
        if step >= 30:  # after plain SK has settled, weight the largest errors up
            lawson = lawson * (np.abs(p / q / m - 1) / error) ** 0.3 + 1e-12
            lawson /= lawson.mean()
    scale_p = A_MAX ** -np.arange(P_DEGREE + 1)
    scale_q = A_MAX ** -np.arange(Q_DEGREE + 1)
    return best[:P_DEGREE + 1] * scale_p, np.concatenate([[1.0], best[P_DEGREE + 1:]
                                                          * scale_q[1:]]), float(best_error)


if __name__ == "__main__":
    p, q, error = fit()
    print("P:", ", ".join(repr(float(c)) for c in p))
    print("Q:", ", ".join(repr(float(c)) for c in q[1:]))
    print(f"largest relative error of P/Q: {error:.3g}")
