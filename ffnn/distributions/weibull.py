"""``Weibull(scale, concentration)``, built as torch builds it: λ·E^{1/k}, E ~ Exp(1)."""

from __future__ import annotations

from ffnn.distributions import constraints
from ffnn.distributions.exponential import Exponential
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import AffineTransform, PowerTransform
from ffnn.distributions.utils import broadcast_all, euler_constant
from ffnn.tensor import Tensor

__all__ = ["Weibull"]


class Weibull(TransformedDistribution):
    """Weibull(λ = scale, k = concentration): density (k/λ)(x/λ)^{k-1} e^{-(x/λ)^k} on x > 0.
    Raises ValueError for λ ≤ 0 or k ≤ 0."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale: Tensor | float, concentration: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base_dist = Exponential(self.scale.new_ones(self.scale.shape),
                                validate_args=validate_args)
        super().__init__(base_dist, self._transforms(), validate_args=validate_args)

    def _transforms(self) -> list:
        return [PowerTransform(exponent=self.concentration_reciprocal),
                AffineTransform(loc=0, scale=self.scale)]

    def expand(self, batch_shape, _instance=None) -> Weibull:
        new = self._get_checked_instance(Weibull, _instance)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.concentration_reciprocal = new.concentration.reciprocal()
        base_dist = self.base_dist.expand(batch_shape)
        TransformedDistribution.__init__(new, base_dist, new._transforms(), validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """λ·Γ(1 + 1/k)."""
        return self.scale * (1 + self.concentration_reciprocal).lgamma().exp()

    @property
    def mode(self) -> Tensor:
        """λ((k - 1)/k)^{1/k}."""
        k = self.concentration
        return self.scale * ((k - 1) / k) ** k.reciprocal()

    @property
    def variance(self) -> Tensor:
        """λ²(Γ(1 + 2/k) - Γ(1 + 1/k)²)."""
        inv = self.concentration_reciprocal
        return self.scale.pow(2) * ((1 + 2 * inv).lgamma().exp()
                                    - (2 * (1 + inv).lgamma()).exp())

    def entropy(self) -> Tensor:
        """γ(1 - 1/k) + log(λ/k) + 1."""
        inv = self.concentration_reciprocal
        return euler_constant * (1 - inv) + (self.scale * inv).log() + 1

