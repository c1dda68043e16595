"""The strong-Wolfe line search of ``LBFGS(line_search_fn="strong_wolfe")``, as torch's
(Nocedal & Wright, Numerical Optimization, algorithms 3.5 and 3.6).

Along a direction d from x (loss f, gradient g, slope gᵀd < 0) it looks for a step t with

    f(x + t d) ≤ f + c₁ t gᵀd            (sufficient decrease, Armijo)
    |∇f(x + t d)ᵀ d| ≤ c₂ |gᵀd|           (curvature, strong form)

first growing t until an interval brackets such a step (``_bracket``), then shrinking the
interval around it (``_zoom``); each trial step is the minimum of the cubic through the two
end points' values and slopes (``cubic_minimum``). The scalars keep the parameters' dtype
(NumPy's scalars of it, as torch's 0-d tensors), so float32 runs round as torch's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Evaluate = Callable[[float], tuple[float, np.ndarray]]
"""t → (f(x + t d), ∇f(x + t d)), the parameters left at x."""


def cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic with values f and slopes g at x1 and x2, clamped to
    ``bounds`` (default: between x1 and x2); their midpoint where the cubic has no minimum.

    d₁ = g₁ + g₂ − 3 (f₁ − f₂)/(x₁ − x₂),  d₂ = √(d₁² − g₁g₂),
    x = x₂ − (x₂ − x₁)(g₂ + d₂ − d₁)/(g₂ − g₁ + 2d₂)  (for x₁ ≤ x₂; symmetric otherwise)."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = np.sqrt(d2_square) if isinstance(d2_square, np.generic) else math.sqrt(d2_square)
    if x1 <= x2:
        found = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        found = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(found, low), high)


class _Point:
    """A trial step: t, f(x + t d), its gradient and slope ∇fᵀd."""

    __slots__ = ("t", "f", "g", "slope")

    def __init__(self, t, f, g, slope):
        self.t, self.f, self.g, self.slope = t, f, g, slope


def strong_wolfe(evaluate: Evaluate, t, d: np.ndarray, f: float, g: np.ndarray, slope,
                 c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                 max_ls: int = 25) -> tuple[float, np.ndarray, float, int]:
    """(f, gradient, t, evaluations) at the step found from the first trial ``t`` along
    ``d`` (``slope`` = gᵀd at t = 0)."""
    start = _Point(0, f, g.copy(), slope)
    ends, done, tries = _bracket(evaluate, start, t, d, c1, c2, max_ls)
    low = 0 if ends[0].f <= ends[-1].f else 1
    if not done:
        low, tries = _zoom(evaluate, start, ends, low, d, (c1, c2, tolerance_change),
                           max_ls, tries)
    best = ends[low]
    return best.f, best.g, best.t, tries + 1


def _point(evaluate: Evaluate, t, d: np.ndarray) -> _Point:
    f, g = evaluate(t)
    return _Point(t, f, g, g.dot(d))


def _bracket(evaluate: Evaluate, start: _Point, t, d, c1, c2, max_ls):
    """Grow the step until [previous, current] brackets a strong-Wolfe step, or the current
    step is one: (the bracket's ends, or that step alone; done; trial steps after the
    first)."""
    previous, current = start, _point(evaluate, t, d)
    tries = 0
    while tries < max_ls:
        if current.f > start.f + c1 * current.t * start.slope or \
                (tries > 1 and current.f >= previous.f):
            return [previous, current], False, tries
        if abs(current.slope) <= -c2 * start.slope:
            return [current], True, tries
        if current.slope >= 0:
            return [previous, current], False, tries
        bounds = (current.t + 0.01 * (current.t - previous.t), current.t * 10)
        t = cubic_minimum(previous.t, previous.f, previous.slope, current.t, current.f,
                          current.slope, bounds=bounds)
        previous, current = current, _point(evaluate, t, d)
        tries += 1
    return [start, current], False, tries


def _zoom(evaluate: Evaluate, start: _Point, ends: list, low: int, d, constants: tuple,
          max_ls: int, tries: int) -> tuple[int, int]:
    """Shrink the bracket ``ends`` (two slots, ``low`` the lower one's) in place around a
    strong-Wolfe step: (the slot of the step found, trial steps so far)."""
    c1, c2, tolerance_change = constants
    d_norm = np.abs(d).max()
    insufficient = False
    while tries < max_ls:
        if abs(ends[1].t - ends[0].t) * d_norm < tolerance_change:
            break
        t = cubic_minimum(ends[0].t, ends[0].f, ends[0].slope, ends[1].t, ends[1].f,
                          ends[1].slope)
        t, insufficient = _away_from_the_ends(t, ends[0].t, ends[1].t, insufficient)
        trial = _point(evaluate, t, d)
        tries += 1
        high = 1 - low
        if trial.f > start.f + c1 * t * start.slope or trial.f >= ends[low].f:
            ends[high] = trial
            low = 0 if ends[0].f <= ends[1].f else 1
            continue
        if abs(trial.slope) <= -c2 * start.slope:
            ends[low] = trial
            break
        if trial.slope * (ends[high].t - ends[low].t) >= 0:
            ends[high] = ends[low]
        ends[low] = trial
    return low, tries


def _away_from_the_ends(t, a, b, insufficient: bool):
    """A trial step kept 10 % of the bracket away from its ends when the last one was
    already close to one (or this one lies on or beyond one): (t, insufficient)."""
    top, bottom = max(a, b), min(a, b)
    eps = 0.1 * (top - bottom)
    if min(top - t, t - bottom) >= eps:
        return t, False
    if insufficient or t >= top or t <= bottom:
        return (top - eps if abs(t - top) < abs(t - bottom) else bottom + eps), False
    return t, True
