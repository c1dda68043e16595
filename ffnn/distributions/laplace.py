"""``Laplace(loc, scale)``: density exp(-|x - μ|/b) / 2b, reparameterisable."""

from __future__ import annotations

import numpy as np

from ffnn.distributions.distribution import Distribution
from ffnn.distributions.location_scale import LocationScale
from ffnn.distributions.utils import uniform
from ffnn.tensor import Tensor

__all__ = ["Laplace"]


class Laplace(LocationScale, Distribution):
    """Laplace(μ = loc, b = scale); ``loc`` and ``scale`` broadcast to ``batch_shape``.
    Raises ValueError for scale ≤ 0 or NaN parameters."""

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return (2**0.5) * self.scale

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """μ - b·sign(u)·log(1 - |u|), u ~ U(-1, 1)."""
        eps = float(np.finfo(self.loc.dtype).eps)
        u = uniform(self._extended_shape(sample_shape), self.loc.dtype, eps - 1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Tensor) -> Tensor:
        """-log 2b - |x - μ|/b."""
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Tensor) -> Tensor:
        """½ - ½·sign(x - μ)·(exp(-|x - μ|/b) - 1)."""
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        return 0.5 - 0.5 * diff.sign() * (-diff.abs() / self.scale).expm1()

    def icdf(self, value: Tensor) -> Tensor:
        """μ - b·sign(p - ½)·log(1 - 2|p - ½|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        """1 + log 2b."""
        return 1 + (2 * self.scale).log()
