"""``RelaxedBernoulli(temperature, probs=… | logits=…)``: the Concrete / Gumbel-sigmoid
relaxation of a Bernoulli on (0, 1), σ(L) for ``LogitRelaxedBernoulli`` L = (logit u +
logit p)/λ, u ~ U(0, 1); reparameterisable (gradients reach p and λ)."""

from __future__ import annotations

from ffnn.distributions import constraints
from ffnn.distributions.binary import ProbsOrLogits
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import SigmoidTransform
from ffnn.distributions.utils import (
    as_size,
    broadcast_all,
    clamp_probs,
    is_number,
    uniform,
)
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli", "RelaxedOf"]


class LogitRelaxedBernoulli(ProbsOrLogits, Distribution):
    """The logit of a RelaxedBernoulli: density λ·e^{l - λx} / (1 + e^{l - λx})², l the
    logits, λ the ``temperature``."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature: Tensor, probs: Tensor | float | None = None,
                 logits: Tensor | float | None = None, validate_args: bool | None = None) -> None:
        self.temperature = temperature
        self._given(probs, logits)
        given = probs if probs is not None else logits
        super().__init__(Size() if is_number(given) else self._param.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LogitRelaxedBernoulli:
        new = self._get_checked_instance(LogitRelaxedBernoulli, _instance)
        batch_shape = as_size(batch_shape)
        new.temperature = self.temperature
        self._expand_into(new, batch_shape)
        super(LogitRelaxedBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """(log u - log(1 - u) + log p - log(1 - p))/λ, u and p clamped to [ε, 1 - ε]
        (u torch's ``rand(shape)``)."""
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(tuple(shape)))
        uniforms = clamp_probs(uniform(shape, probs.dtype))
        return (uniforms.log() - (-uniforms).log1p() + probs.log() - (-probs).log1p()) \
            / self.temperature

    def log_prob(self, value: Tensor) -> Tensor:
        """log λ + d - 2·log1p(eᵈ), d = l - λx."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value.mul(self.temperature)
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedOf:
    """Mixed into a relaxed TransformedDistribution: the base's temperature and parameters."""

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs


class RelaxedBernoulli(RelaxedOf, TransformedDistribution):
    """σ(L), L ~ LogitRelaxedBernoulli(temperature, probs | logits), on the unit interval."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature: Tensor, probs: Tensor | float | None = None,
                 logits: Tensor | float | None = None, validate_args: bool | None = None) -> None:
        base_dist = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base_dist, SigmoidTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> RelaxedBernoulli:
        new = self._get_checked_instance(RelaxedBernoulli, _instance)
        return super().expand(batch_shape, _instance=new)
