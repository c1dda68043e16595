"""``Kumaraswamy(concentration1, concentration0)``: density a·b·x^{a-1}(1 - x^a)^{b-1} on
[0, 1], built as torch builds it: (1 - u^{1/b})^{1/a} for u ~ U(0, 1)."""

from __future__ import annotations

import math

from ffnn import ops
from ffnn.distributions import constraints
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import AffineTransform, PowerTransform
from ffnn.distributions.uniform import Uniform
from ffnn.distributions.utils import broadcast_all, euler_constant
from ffnn.tensor import Tensor

__all__ = ["Kumaraswamy"]


def _moments(a: Tensor, b: Tensor, n: int) -> Tensor:
    """E[xⁿ] = b·B(1 + n/a, b)."""
    arg1 = 1 + n / a
    return b * (arg1.lgamma() + b.lgamma() - (arg1 + b).lgamma()).exp()


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(a = concentration1, b = concentration0). Raises ValueError for a ≤ 0 or
    b ≤ 0."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Tensor | float, concentration0: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        shape = self.concentration0.shape
        base_dist = Uniform(self.concentration0.new_full(shape, 0),
                            self.concentration0.new_full(shape, 1), validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Kumaraswamy:
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self) -> Tensor:
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> Tensor:
        """((a - 1)/(ab - 1))^{1/a} for a, b ≥ 1, NaN otherwise."""
        a, b = self.concentration1, self.concentration0
        log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        return ops.where((b < 1) | (a < 1), math.nan, log_mode).exp()

    @property
    def variance(self) -> Tensor:
        return _moments(self.concentration1, self.concentration0, 2) - self.mean.pow(2)

    def entropy(self) -> Tensor:
        """(1 - 1/b) + (1 - 1/a)(ψ(b + 1) + γ) - log a - log b."""
        a, b = self.concentration1, self.concentration0
        h0 = (b + 1).digamma() + euler_constant
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * h0 - a.log() - b.log()
