"""``VonMises(loc, concentration)``: the circular normal, density e^{κ cos(x - μ)}/(2π I₀(κ))
on [-π, π), with torch's polynomial approximations of log I₀ and log I₁ (Abramowitz &
Stegun 9.8.1-4) and its rejection sampler (Best & Fisher), so that a seed gives torch's draws."""

from __future__ import annotations

import math

import numpy as np

from ffnn import ops
from ffnn.distributions import constraints
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size, broadcast_all, lazy_property, uniform
from ffnn.tensor import Tensor

__all__ = ["VonMises"]

_COEF_SMALL = [[1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813],
               [0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532,
                0.00032411]]
_COEF_LARGE = [[0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281, -0.02057706,
                0.02635537, -0.01647633, 0.00392377],
               [0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555, 0.02282967,
                -0.02895312, 0.01787654, -0.00420059]]


def _eval_poly(y: Tensor, coef: list[float]) -> Tensor:
    """Σₖ cₖ yᵏ by Horner's rule."""
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def log_modified_bessel(x: Tensor, order: int = 0) -> Tensor:
    """log Iₙ(x), n = ``order`` ∈ {0, 1}: a polynomial in (x/3.75)² below 3.75, else
    x - ½ log x + log of a polynomial in 3.75/x."""
    if order not in (0, 1):
        raise AssertionError(f"order must be 0 or 1, got {order}")
    y = x / 3.75
    small = _eval_poly(y * y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _COEF_LARGE[order]).log()
    return ops.where(x < 3.75, small.log(), large)


def _rejection_sample(loc: np.ndarray, concentration: np.ndarray, proposal_r: np.ndarray,
                      shape: tuple) -> np.ndarray:
    """Best & Fisher's sampler, torch's rounds: three uniforms per element per round (torch's
    ``rand((3,) + shape)``), accepted elements kept, until all are; wrapped to [-π, π)."""
    x = np.zeros(shape)
    done = np.zeros(shape, dtype=bool)
    while not done.all():
        u1, u2, u3 = uniform((3,) + shape, np.float64).numpy()
        z = np.cos(math.pi * u1)
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        with np.errstate(all="ignore"):
            accept = (c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0)
        x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(f), x)
        done = done | accept
    return np.mod(x + math.pi + loc, 2 * math.pi) - math.pi


class VonMises(Distribution):
    """VonMises(μ = loc, κ = concentration), broadcast to ``batch_shape``; no rsample.
    Raises ValueError for κ ≤ 0."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Tensor | float, concentration: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, (), validate_args)

    def expand(self, batch_shape, _instance=None) -> VonMises:
        batch_shape = as_size(batch_shape)
        return type(self)(self.loc.expand(batch_shape), self.concentration.expand(batch_shape),
                          validate_args=self.__dict__.get("_validate_args"))

    def log_prob(self, value: Tensor) -> Tensor:
        """κ cos(x - μ) - log 2π - log I₀(κ)."""
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * (value - self.loc).cos()
        return log_prob - math.log(2 * math.pi) - log_modified_bessel(self.concentration, 0)

    @lazy_property
    def _proposal_r(self) -> np.ndarray:
        """r = (1 + ρ²)/(2ρ), ρ = (τ - √(2τ))/(2κ), τ = 1 + √(1 + 4κ²) (1/κ + κ below 1e-5)."""
        kappa = self.concentration.detach().numpy().astype(np.float64)
        with np.errstate(all="ignore"):
            tau = 1 + np.sqrt(1 + 4 * kappa**2)
            rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
            return np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho**2) / (2 * rho))

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """Draws in float64 (torch's), returned in loc's dtype."""
        shape = tuple(self._extended_shape(sample_shape))
        loc = self.loc.detach().numpy().astype(np.float64)
        kappa = self.concentration.detach().numpy().astype(np.float64)
        draw = _rejection_sample(loc, kappa, self._proposal_r, shape)
        return Tensor._make(draw.astype(self.loc.dtype), False, None)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        """1 - I₁(κ)/I₀(κ) (the circular variance)."""
        return 1 - (log_modified_bessel(self.concentration, 1)
                    - log_modified_bessel(self.concentration, 0)).exp()
