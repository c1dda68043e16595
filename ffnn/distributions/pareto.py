"""``Pareto(scale, alpha)``, built as torch builds it: x_m·e^{E}, E ~ Exp(α)."""

from __future__ import annotations

from ffnn.distributions import constraints
from ffnn.distributions.exponential import Exponential
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import AffineTransform, ExpTransform
from ffnn.distributions.utils import broadcast_all
from ffnn.tensor import Tensor

__all__ = ["Pareto"]


class Pareto(TransformedDistribution):
    """Pareto(x_m = scale, α = alpha): density α x_m^α / x^{α+1} on x ≥ x_m.
    Raises ValueError for x_m ≤ 0 or α ≤ 0."""

    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale: Tensor | float, alpha: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base_dist = Exponential(self.alpha, validate_args=validate_args)
        transforms = [ExpTransform(), AffineTransform(loc=0, scale=self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Pareto:
        new = self._get_checked_instance(Pareto, _instance)
        new.scale = self.scale.expand(batch_shape)
        new.alpha = self.alpha.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self) -> Tensor:
        """α x_m/(α - 1) (α clamped to ≥ 1: inf at and below 1)."""
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    @property
    def mode(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        """x_m² α / ((α - 1)²(α - 2)) (α clamped to ≥ 2)."""
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def entropy(self) -> Tensor:
        """log(x_m/α) + 1 + 1/α."""
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())


