"""``LogNormal(loc, scale)``: the law of eˣ for x ~ N(μ, σ²) (a TransformedDistribution of
Normal by ExpTransform, as torch builds it)."""

from __future__ import annotations

from ffnn.distributions import constraints
from ffnn.distributions.normal import Normal
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import ExpTransform
from ffnn.tensor import Tensor

__all__ = ["LogNormal"]


class LogNormal(TransformedDistribution):
    """LogNormal(μ = loc, σ = scale) of the underlying Normal. Raises ValueError for σ ≤ 0."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc: Tensor | float, scale: Tensor | float,
                 validate_args: bool | None = None) -> None:
        base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LogNormal:
        new = self._get_checked_instance(LogNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mean(self) -> Tensor:
        """exp(μ + σ²/2)."""
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self) -> Tensor:
        """exp(μ - σ²)."""
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self) -> Tensor:
        """(exp σ² - 1)·exp(2μ + σ²)."""
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def entropy(self) -> Tensor:
        """The Normal's entropy + μ."""
        return self.base_dist.entropy() + self.loc
