"""``NegativeBinomial(total_count, probs=… | logits=…)``: the number of successes before
``total_count`` failures, P(k) = Γ(k + r)/(k! Γ(r)) · p^k (1 - p)^r; sampled as torch's, a
Poisson count of a Gamma(r, (1 - p)/p) rate (count regression, overdispersed data)."""

from __future__ import annotations

from ffnn import autograd, functions_sampling, ops
from ffnn.distributions import constraints
from ffnn.distributions.binary import ProbsOrLogits
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.gamma import Gamma
from ffnn.distributions.utils import as_size, lazy_property
from ffnn.nn import functional as F
from ffnn.tensor import Tensor

__all__ = ["NegativeBinomial"]


class NegativeBinomial(ProbsOrLogits, Distribution):
    """NegativeBinomial(r = total_count ≥ 0, p ∈ [0, 1) from ``probs`` or ``logits``),
    broadcast to ``batch_shape``. Raises ValueError for r < 0 or p outside [0, 1)."""

    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count: Tensor | float, probs: Tensor | None = None,
                 logits: Tensor | None = None, validate_args: bool | None = None) -> None:
        (self.total_count,) = self._given(probs, logits, total_count)
        self.total_count = self.total_count.to(self._param.dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> NegativeBinomial:
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = as_size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_into(new, batch_shape)
        super(NegativeBinomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """r·p/(1 - p) = r·e^{logit}."""
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> Tensor:
        """⌊(r - 1)·p/(1 - p)⌋⁺."""
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        """mean/(1 - p)."""
        return self.mean / (-self.logits).sigmoid()

    @lazy_property
    def _gamma(self) -> Gamma:
        return Gamma(concentration=self.total_count, rate=(-self.logits).exp(),
                     validate_args=False)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """poisson(λ), λ ~ Gamma(r, e^{-logit}) (torch's draws: the gammas, then the counts)."""
        with autograd.no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return functions_sampling.poisson(rate)

    def log_prob(self, value: Tensor) -> Tensor:
        """r·log σ(-l) + k·log σ(l) + lgamma(r + k) - lgamma(1 + k) - lgamma r (the
        normaliser 0 where r + k = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        r = self.total_count
        unnormalized = r * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        normalization = -(r + value).lgamma() + (1.0 + value).lgamma() + r.lgamma()
        normalization = ops.where(r + value == 0.0, 0.0, normalization)
        return unnormalized - normalization
