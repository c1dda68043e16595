"""``HalfNormal(scale)`` and ``HalfCauchy(scale)``: |x| for x ~ N(0, σ²) or Cauchy(0, γ)
(TransformedDistributions by AbsTransform, as torch builds them): twice the base density
on x ≥ 0, -inf below."""

from __future__ import annotations

import math

from ffnn import ops
from ffnn.distributions import constraints
from ffnn.distributions.cauchy import Cauchy
from ffnn.distributions.gamma import as_value
from ffnn.distributions.normal import Normal
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import AbsTransform
from ffnn.tensor import Tensor

__all__ = ["HalfCauchy", "HalfNormal"]


class _Folded(TransformedDistribution):
    """|x| for x from a base distribution centred at 0 (``_base``), of scale ``scale``."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _base: type

    def __init__(self, scale: Tensor | float, validate_args: bool | None = None) -> None:
        base_dist = self._base(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(type(self), _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale

    @property
    def mode(self) -> Tensor:
        return self.scale.new_zeros(self.scale.shape)

    def log_prob(self, value) -> Tensor:
        """log p_base(x) + log 2 for x ≥ 0, -inf below."""
        if self._validate_args:
            self._validate_sample(value)
        value = as_value(value, self.scale)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return ops.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value: Tensor) -> Tensor:
        """2·F_base(x) - 1."""
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: Tensor) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        """The base entropy - log 2."""
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Folded):
    """HalfNormal(σ = scale). Raises ValueError for σ ≤ 0."""

    _base = Normal

    @property
    def mean(self) -> Tensor:
        """σ√(2/π)."""
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        """σ²(1 - 2/π)."""
        return self.scale.pow(2) * (1 - 2 / math.pi)


class HalfCauchy(_Folded):
    """HalfCauchy(γ = scale); mean and variance infinite. Raises ValueError for γ ≤ 0."""

    _base = Cauchy

    @property
    def mean(self) -> Tensor:
        return self.scale.new_full(self._extended_shape(), math.inf)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance
