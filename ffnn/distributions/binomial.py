"""``Binomial(total_count, probs=… | logits=…)``: P(k) = C(n, k) pᵏ (1 - p)ⁿ⁻ᵏ on
k = 0, …, n; samples are torch's ``torch.binomial`` draws (``ffnn.torch_binomial``)."""

from __future__ import annotations

import numpy as np

from ffnn import autograd, functions_sampling
from ffnn.distributions import constraints
from ffnn.distributions.binary import ProbsOrLogits
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import (
    as_size,
)
from ffnn.tensor import Tensor

__all__ = ["Binomial"]


def _clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) with gradient ½ at 0 (torch's)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(ProbsOrLogits, Distribution):
    """Binomial(n = total_count, p) from ``probs`` or ``logits`` (not both), broadcast to
    ``batch_shape``. Raises ValueError for n not a non-negative integer or p outside [0, 1]."""

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count: Tensor | int = 1, probs: Tensor | None = None,
                 logits: Tensor | None = None, validate_args: bool | None = None) -> None:
        (self.total_count,) = self._given(probs, logits, total_count)
        self.total_count = self.total_count.to(self._param.dtype)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Binomial:
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = as_size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        self._expand_into(new, batch_shape)
        super(Binomial, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        """⌊(n + 1)p⌋, at most n."""
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        with autograd.no_grad():
            return functions_sampling.binomial(self.total_count.expand(shape),
                                               self.probs.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        """k·logit - log k! - log (n - k)! + log n! - n·log(1 + e^{logit}), by the logits."""
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        normalize = n * _clamp_by_zero(logits) + n * (-logits.abs()).exp().log1p() \
            - (n + 1).lgamma()
        return value * logits - (value + 1).lgamma() - (n - value + 1).lgamma() - normalize

    def _homogeneous_count(self, what: str) -> int:
        counts = self.total_count.numpy()
        total = int(counts.max())
        if not counts.min() == total:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return total

    def entropy(self) -> Tensor:
        """-Σₖ P(k) log P(k) over k = 0, …, n (n the same for the whole batch)."""
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total = self._homogeneous_count("enumerate_support")
        values = Tensor._make(np.arange(1 + total, dtype=self._param.dtype), False, None)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
