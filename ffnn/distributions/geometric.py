"""``Geometric(probs=… | logits=…)``: the number of failures before the first success,
P(k) = (1 - p)^k p on k = 0, 1, 2, …; samples ⌊log u / log(1 - p)⌋ for torch's uniforms."""

from __future__ import annotations

import numpy as np

from ffnn import autograd, ops
from ffnn.distributions import constraints
from ffnn.distributions.bernoulli import bce_with_logits
from ffnn.distributions.binary import ProbsOrLogits
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import (
    as_size,
    broadcast_all,
    is_number,
    uniform,
)
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["Geometric"]


class Geometric(ProbsOrLogits, Distribution):
    """Geometric(p) from ``probs`` (0 < p ≤ 1) or ``logits`` (log-odds), not both.
    Raises ValueError for p outside (0, 1] or NaN."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Tensor | float | None = None, logits: Tensor | float | None = None,
                 validate_args: bool | None = None) -> None:
        self._given(probs, logits)
        given = probs if probs is not None else logits
        super().__init__(Size() if is_number(given) else given.shape,
                         validate_args=validate_args)
        if self._validate_args and probs is not None:
            valid = self.probs.numpy() > 0
            if not valid.all():
                raise ValueError(
                    f"Expected parameter probs ({type(self.probs).__name__} of shape "
                    f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive but "
                    f"found invalid values:\n{self.probs.detach()[Tensor._of(~valid)]}")

    def expand(self, batch_shape, _instance=None) -> Geometric:
        new = self._get_checked_instance(Geometric, _instance)
        batch_shape = as_size(batch_shape)
        self._expand_into(new, batch_shape)
        super(Geometric, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """1/p - 1."""
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return self.probs.new_zeros(self.probs.shape)

    @property
    def variance(self) -> Tensor:
        """(1/p - 1)/p."""
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """⌊log u / log1p(-p)⌋, u ~ U(tiny, 1) (torch's ``new(shape).uniform_(tiny, 1)``)."""
        shape = self._extended_shape(sample_shape)
        with autograd.no_grad():
            u = uniform(shape, self.probs.dtype, float(np.finfo(self.probs.dtype).tiny), 1)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value: Tensor) -> Tensor:
        """k·log(1 - p) + log p, with 0·log 0 = 0 at p = 1, k = 0."""
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = ops.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        """(-(1 - p)·log(1 - p) - p·log p)/p, by the logits."""
        return bce_with_logits(self.logits, self.probs) / self.probs
