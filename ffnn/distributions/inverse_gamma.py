"""``InverseGamma(concentration, rate)``: the law of 1/X for X ~ Gamma(α, β), density
β^α x^{-α-1} e^{-β/x} / Γ(α) (a TransformedDistribution by PowerTransform(-1), as torch's);
reparameterisable through the Gamma's implicit gradient."""

from __future__ import annotations

import math

from ffnn import ops
from ffnn.distributions import constraints
from ffnn.distributions.gamma import Gamma
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import PowerTransform
from ffnn.tensor import Tensor

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """InverseGamma(α = concentration, β = rate). Raises ValueError for α ≤ 0 or β ≤ 0."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration: Tensor | float, rate: Tensor | float,
                 validate_args: bool | None = None) -> None:
        base_dist = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -base_dist.rate.new_ones(())
        super().__init__(base_dist, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> InverseGamma:
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self) -> Tensor:
        return self.base_dist.concentration

    @property
    def rate(self) -> Tensor:
        return self.base_dist.rate

    @property
    def mean(self) -> Tensor:
        """β/(α - 1) for α > 1, inf otherwise."""
        return ops.where(self.concentration > 1, self.rate / (self.concentration - 1), math.inf)

    @property
    def mode(self) -> Tensor:
        """β/(α + 1)."""
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> Tensor:
        """β²/((α - 1)²(α - 2)) for α > 2, inf otherwise."""
        a = self.concentration
        result = self.rate.square() / ((a - 1).square() * (a - 2))
        return ops.where(a > 2, result, math.inf)

    def entropy(self) -> Tensor:
        """α + log β + lgamma α - (1 + α)ψ(α)."""
        a = self.concentration
        return a + self.rate.log() + a.lgamma() - (1 + a) * a.digamma()
