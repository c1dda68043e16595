"""``MixtureSameFamily(mixture, components)``: p(x) = Σₖ πₖ pₖ(x), the mixture weights a
Categorical over the rightmost batch dimension of the component distribution (mixture
density networks: log_prob by logsumexp, differentiable in the weights and components)."""

from __future__ import annotations

from ffnn import autograd
from ffnn.distributions import constraints
from ffnn.distributions.categorical import Categorical
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size
from ffnn.nn import functional as F
from ffnn.tensor import Tensor

__all__ = ["MixtureSameFamily"]


def _check_components(mixture, component) -> None:
    """ValueError unless the mixture is a Categorical whose batch shape broadcasts with the
    components' batch shape (less its last dim, the K components) and whose K matches."""
    if not isinstance(mixture, Categorical):
        raise ValueError(" The Mixture distribution needs to be an  instance of "
                         "torch.distributions.Categorical")
    if not isinstance(component, Distribution):
        raise ValueError("The Component distribution needs to be an instance of "
                         "torch.distributions.Distribution")
    mdbs, cdbs = mixture.batch_shape, component.batch_shape[:-1]
    for size1, size2 in zip(reversed(mdbs), reversed(cdbs)):
        if size1 != 1 and size2 != 1 and size1 != size2:
            raise ValueError(f"`mixture_distribution.batch_shape` ({mdbs}) is not compatible "
                             f"with `component_distribution.batch_shape`({cdbs})")
    km, kc = mixture.logits.shape[-1], component.batch_shape[-1]
    if km != kc:
        raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                         f"`component_distribution.batch_shape[-1]` ({kc})")


class MixtureSameFamily(Distribution):
    """Σₖ πₖ pₖ: ``mixture_distribution`` a Categorical of K weights, ``component_distribution``
    of batch shape ``batch_shape + (K,)``; no rsample (the component choice is discrete)."""

    arg_constraints: dict[str, constraints.Constraint] = {}
    has_rsample = False

    def __init__(self, mixture_distribution: Categorical, component_distribution: Distribution,
                 validate_args: bool | None = None) -> None:
        _check_components(mixture_distribution, component_distribution)
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = mixture_distribution.logits.shape[-1]
        event_shape = component_distribution.event_shape
        self._event_ndims = len(event_shape)
        super().__init__(component_distribution.batch_shape[:-1], event_shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> MixtureSameFamily:
        batch_shape = as_size(batch_shape)
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        new._component_distribution = self._component_distribution.expand(
            batch_shape + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component, new._event_ndims = self._num_component, self._event_ndims
        Distribution.__init__(new, batch_shape, new._component_distribution.event_shape,
                              validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    @property
    def mixture_distribution(self) -> Categorical:
        return self._mixture_distribution

    @property
    def component_distribution(self) -> Distribution:
        return self._component_distribution

    @property
    def mean(self) -> Tensor:
        """Σₖ πₖ μₖ."""
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        """Σₖ πₖ σₖ² + Σₖ πₖ (μₖ - μ)² (law of total variance)."""
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        dim = -1 - self._event_ndims
        mean_cond_var = (probs * self.component_distribution.variance).sum(dim)
        spread = (self.component_distribution.mean - self._pad(self.mean)).pow(2.0)
        return mean_cond_var + (probs * spread).sum(dim)

    def cdf(self, x: Tensor) -> Tensor:
        """Σₖ πₖ Fₖ(x)."""
        cdf_x = self.component_distribution.cdf(self._pad(x))
        return (cdf_x * self.mixture_distribution.probs).sum(-1)

    def log_prob(self, x: Tensor) -> Tensor:
        """logsumexpₖ(log pₖ(x) + log πₖ)."""
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self.component_distribution.log_prob(self._pad(x))
        log_mix_prob = F.log_softmax(self.mixture_distribution.logits, dim=-1)
        return (log_prob_x + log_mix_prob).logsumexp(-1)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """A component index k per draw (the Categorical's sample, drawn first), then every
        component's sample, of which the k-th is kept (torch's order of draws)."""
        with autograd.no_grad():
            gather_dim = len(sample_shape) + len(self.batch_shape)
            es = tuple(self.event_shape)
            mix_sample = self.mixture_distribution.sample(sample_shape)
            mix_shape = tuple(mix_sample.shape)
            comp_samples = self.component_distribution.sample(sample_shape)
            index = mix_sample.reshape(mix_shape + (1,) * (len(es) + 1))
            index = index.repeat((1,) * len(mix_shape) + (1,) + es)
            return comp_samples.gather(gather_dim, index).squeeze(gather_dim)

    def _pad(self, x: Tensor) -> Tensor:
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x: Tensor) -> Tensor:
        dist_batch_ndims = len(self.batch_shape)
        cat_batch_ndims = len(self.mixture_distribution.batch_shape)
        pad_ndims = 0 if cat_batch_ndims == 1 else dist_batch_ndims - cat_batch_ndims
        xs = tuple(x.shape)
        return x.reshape(xs[:-1] + (1,) * pad_ndims + xs[-1:] + (1,) * self._event_ndims)

    def __repr__(self) -> str:
        return (f"MixtureSameFamily(\n  {self.mixture_distribution},\n  "
                f"{self.component_distribution})")
