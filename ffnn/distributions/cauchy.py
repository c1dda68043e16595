"""``Cauchy(loc, scale)``: density 1 / (πγ(1 + ((x - x₀)/γ)²)), reparameterisable
(x = x₀ + γ·ε, ε from torch's ``cauchy_``); mean NaN and variance inf, as torch's."""

from __future__ import annotations

import math

import numpy as np

from ffnn.distributions.distribution import Distribution
from ffnn.distributions.location_scale import LocationScale
from ffnn.tensor import Tensor

__all__ = ["Cauchy"]


class Cauchy(LocationScale, Distribution):
    """Cauchy(x₀ = loc, γ = scale); ``loc`` and ``scale`` broadcast to ``batch_shape``.
    Raises ValueError for scale ≤ 0 or NaN parameters."""

    @property
    def mean(self) -> Tensor:
        """Undefined: NaN."""
        return self.loc.new_full(self._extended_shape(), math.nan)

    @property
    def variance(self) -> Tensor:
        """Infinite."""
        return self.loc.new_full(self._extended_shape(), math.inf)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """x₀ + γ·ε, ε standard Cauchy (torch's ``new(shape).cauchy_()`` numbers)."""
        shape = tuple(self._extended_shape(sample_shape))
        eps = Tensor._make(np.empty(shape, self.loc.dtype), False, None).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        """-log π - log γ - log1p(((x - x₀)/γ)²)."""
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() \
            - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value: Tensor) -> Tensor:
        """atan((x - x₀)/γ)/π + ½."""
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value: Tensor) -> Tensor:
        """x₀ + γ·tan(π(p - ½))."""
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        """log 4π + log γ."""
        return math.log(4 * math.pi) + self.scale.log()
