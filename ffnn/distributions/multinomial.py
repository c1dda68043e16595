"""``Multinomial(total_count, probs=… | logits=…)``: counts of n draws among K categories,
P(x) = n! / Πᵢ xᵢ! · Πᵢ pᵢ^{xᵢ}; samples count n Categorical draws (torch's numbers)."""

from __future__ import annotations

import math

import numpy as np

from ffnn import autograd, ops
from ffnn.distributions import constraints
from ffnn.distributions.binomial import Binomial
from ffnn.distributions.categorical import Categorical
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size, broadcast_all
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["Multinomial"]


class Multinomial(Distribution):
    """Multinomial(n = total_count (an int), p) over the last dim of ``probs``/``logits``;
    events are count vectors of K entries. Raises ValueError for bad probabilities."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count: int = 1, probs: Tensor | None = None,
                 logits: Tensor | None = None, validate_args: bool | None = None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Multinomial:
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = as_size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        super(Multinomial, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """n category draws per event (the Categorical's, torch's order), counted."""
        sample_shape = as_size(sample_shape)
        with autograd.no_grad():
            draws = self._categorical.sample(Size((self.total_count,)) + sample_shape).numpy()
            draws = np.moveaxis(draws, 0, -1)
            counts = np.zeros(tuple(self._extended_shape(sample_shape)), dtype=np.int64)
            grids = np.indices(draws.shape[:-1], sparse=True)
            np.add.at(counts, tuple(g[..., None] for g in grids) + (draws,), 1)
        return Tensor._make(counts.astype(self.probs.dtype), False, None)

    def entropy(self) -> Tensor:
        """n·H(Categorical) - log n! + Σᵢ Σₖ₌₁ⁿ Binomial(n, pᵢ)(k)·log k!."""
        n = self.total_count
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = (support + 1).lgamma()
        return term1 + (binomial_probs * weights).sum(0).sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        """log n! - Σᵢ log xᵢ! + Σᵢ xᵢ log pᵢ (a 0·log 0 term counts 0)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        logits = ops.where((value == 0) & (logits == -math.inf), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)

