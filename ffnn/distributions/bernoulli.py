"""``Bernoulli(probs=… | logits=…)``: 1 with probability p, 0 with 1 - p."""

from __future__ import annotations

import numpy as np

from ffnn.distributions import constraints
from ffnn.distributions.binary import ProbsOrLogits
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.utils import (
    as_size,
    broadcast_all,
    is_number,
)
from ffnn.nn import functional as F
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["Bernoulli"]


def bce_with_logits(logits: Tensor, target: Tensor) -> Tensor:
    """Element-wise (1 - y)·x - log σ(x): torch's binary cross-entropy with logits,
    differentiable in both the logits x and the target y."""
    return (1 - target) * logits - F.logsigmoid(logits)


class Bernoulli(ProbsOrLogits, ExponentialFamily):
    """Bernoulli(p) from ``probs`` (p ∈ [0, 1]) or ``logits`` (log-odds), not both.
    Raises ValueError for probs outside [0, 1] or NaN."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs: Tensor | float | None = None,
                 logits: Tensor | float | None = None,
                 validate_args: bool | None = None) -> None:
        self._given(probs, logits)
        given = probs if probs is not None else logits
        batch_shape = Size() if is_number(given) else self._param.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Bernoulli:
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = as_size(batch_shape)
        self._expand_into(new, batch_shape)
        super(Bernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        """1 where p > ½, 0 where p < ½, NaN at p = ½."""
        p = self.probs.detach().numpy()
        mode = np.where(p == 0.5, np.nan, (p >= 0.5).astype(p.dtype))
        return Tensor._make(mode.astype(p.dtype), False, None)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return self.probs.detach().expand(shape).bernoulli()

    def log_prob(self, value: Tensor) -> Tensor:
        """x·log p + (1 - x)·log(1 - p), computed from the logits."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -bce_with_logits(logits, value)

    def entropy(self) -> Tensor:
        """-p·log p - (1 - p)·log(1 - p)."""
        return bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = Tensor._make(np.arange(2, dtype=self._param.dtype), False, None)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values


    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.probs.logit(),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return x.exp().log1p()
