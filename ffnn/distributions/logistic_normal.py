"""``LogisticNormal(loc, scale)``: a distribution on the simplex, the stick-breaking image of
a Normal vector (as torch builds it: Normal → StickBreakingTransform)."""

from __future__ import annotations

from ffnn.distributions import constraints
from ffnn.distributions.normal import Normal
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import StickBreakingTransform
from ffnn.tensor import Tensor

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """``loc`` and ``scale`` of K - 1 entries (the last dim) give events of K probabilities.
    Raises ValueError for scale ≤ 0."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc: Tensor | float, scale: Tensor | float,
                 validate_args: bool | None = None) -> None:
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LogisticNormal:
        new = self._get_checked_instance(LogisticNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def loc(self) -> Tensor:
        return self.base_dist.base_dist.loc

    @property
    def scale(self) -> Tensor:
        return self.base_dist.base_dist.scale
