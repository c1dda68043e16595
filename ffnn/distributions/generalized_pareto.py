"""``GeneralizedPareto(loc, scale, concentration)``: density (1/σ)(1 + ξz)^{-1/ξ - 1},
z = (x - μ)/σ (e^{-z}/σ at ξ = 0), for peaks over a threshold; reparameterisable by its
inverse CDF, as torch's."""

from __future__ import annotations

import math

import numpy as np

from ffnn import ops
from ffnn.distributions import constraints
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size, broadcast_all, is_number, uniform
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["GeneralizedPareto"]


def _near_zero(t: Tensor) -> Tensor:
    """torch's isclose(t, 0): |t| ≤ 1e-8."""
    return Tensor._make(np.isclose(t.detach().numpy(), 0.0), False, None)


class GeneralizedPareto(Distribution):
    """GPD(μ = loc, σ = scale, ξ = concentration), broadcast to ``batch_shape``; support
    [μ, μ - σ/ξ] for ξ < 0, [μ, ∞) otherwise. Raises ValueError for σ ≤ 0."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive,
                       "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args: bool | None = None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        numbers = all(is_number(v) for v in (loc, scale, concentration))
        super().__init__(Size() if numbers else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> GeneralizedPareto:
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = as_size(batch_shape)
        new.loc, new.scale, new.concentration = (
            t.expand(batch_shape) for t in (self.loc, self.scale, self.concentration))
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """F⁻¹(u), u torch's ``rand(shape)``."""
        return self.icdf(uniform(self._extended_shape(sample_shape), self.loc.dtype))

    def _safe_concentration(self) -> tuple[Tensor, Tensor]:
        eq_zero = _near_zero(self.concentration)
        return eq_zero, ops.where(eq_zero, 1.0, self.concentration)

    def log_prob(self, value: Tensor) -> Tensor:
        """-log σ - (1/ξ + 1) log1p(ξz) (-log σ - z at ξ = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        eq_zero, safe = self._safe_concentration()
        y = 1 / safe + z.new_ones(z.shape)
        where_nonzero = ops.where(y == 0, y, y * (safe * z).log1p())
        return -self.scale.log() - ops.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value: Tensor) -> Tensor:
        """log(1 - F(x)) = -log1p(ξz)/ξ (-z at ξ = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        eq_zero, safe = self._safe_concentration()
        return ops.where(eq_zero, -z, -(safe * z).log1p() / safe)

    def log_cdf(self, value: Tensor) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value: Tensor) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        """μ + σ/ξ·expm1(-ξ log(1 - p)) (μ - σ log(1 - p) at ξ = 0)."""
        eq_zero, safe = self._safe_concentration()
        logu = (-value).log1p()
        where_nonzero = self.loc + self.scale / safe * (-safe * logu).expm1()
        return ops.where(eq_zero, self.loc - self.scale * logu, where_nonzero)

    @property
    def mean(self) -> Tensor:
        """μ + σ/(1 - ξ) for ξ < 1, NaN otherwise."""
        valid = self.concentration < 1
        safe = ops.where(valid, self.concentration, 0.5)
        return ops.where(valid, self.loc + self.scale / (1 - safe), math.nan)

    @property
    def variance(self) -> Tensor:
        """σ²/((1 - ξ)²(1 - 2ξ)) for ξ < ½, NaN otherwise."""
        valid = self.concentration < 0.5
        safe = ops.where(valid, self.concentration, 0.25)
        return ops.where(valid, self.scale**2 / ((1 - safe) ** 2 * (1 - 2 * safe)), math.nan)

    def entropy(self) -> Tensor:
        """log σ + ξ + 1."""
        return (self.scale.log() + self.concentration + 1).expand(tuple(self._batch_shape))

    @property
    def mode(self) -> Tensor:
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = ops.where(self.concentration < 0, self.loc - self.scale / self.concentration,
                          math.inf)
        return constraints.interval(self.loc, upper)
