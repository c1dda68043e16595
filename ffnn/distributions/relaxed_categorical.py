"""``RelaxedOneHotCategorical(temperature, probs=… | logits=…)``: the Concrete / Gumbel-
softmax relaxation of a one-hot Categorical on the simplex, softmax((l + g)/λ) with Gumbel
noise g = -log(-log u); reparameterisable (gradients reach the logits and λ)."""

from __future__ import annotations

from ffnn.distributions import constraints
from ffnn.distributions.categorical import Categorical
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.relaxed_bernoulli import RelaxedOf
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import ExpTransform
from ffnn.distributions.utils import as_size, broadcast_all, clamp_probs, uniform
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical sample: log-probabilities over the last dim."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature: Tensor, probs: Tensor | None = None,
                 logits: Tensor | None = None, validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits)
        self.temperature = temperature
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> ExpRelaxedCategorical:
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = as_size(batch_shape)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        super(ExpRelaxedCategorical, new).__init__(batch_shape, self.event_shape,
                                                   validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """s - logsumexp(s), s = (l + g)/λ, g = -log(-log u), u torch's ``rand`` clamped."""
        shape = self._extended_shape(sample_shape)
        uniforms = clamp_probs(uniform(shape, self.logits.dtype))
        gumbels = -(-uniforms.log()).log()
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(dim=-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        """lgamma K + (K - 1)·log λ + Σᵢ (sᵢ - logsumexp s), s = l - λx."""
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = self.temperature.new_full(self.temperature.shape, float(k)).lgamma() \
            - self.temperature.log().mul(-(k - 1))
        score = logits - value.mul(self.temperature)
        score = (score - score.logsumexp(dim=-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(RelaxedOf, TransformedDistribution):
    """exp(X), X ~ ExpRelaxedCategorical(temperature, probs | logits), on the simplex."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature: Tensor, probs: Tensor | None = None,
                 logits: Tensor | None = None, validate_args: bool | None = None) -> None:
        base_dist = ExpRelaxedCategorical(temperature, probs, logits,
                                          validate_args=validate_args)
        super().__init__(base_dist, ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> RelaxedOneHotCategorical:
        new = self._get_checked_instance(RelaxedOneHotCategorical, _instance)
        return super().expand(batch_shape, _instance=new)
