"""``Normal(loc, scale)``: the Gaussian N(μ, σ²), reparameterisable (x = μ + σ·ε)."""

from __future__ import annotations

import math

from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.location_scale import LocationScale
from ffnn.distributions.utils import standard_normal
from ffnn.tensor import Tensor

__all__ = ["Normal"]


class Normal(LocationScale, ExponentialFamily):
    """N(loc, scale²): density exp(-(x - μ)²/2σ²) / (σ√(2π)); ``loc`` and ``scale``
    broadcast to ``batch_shape``. Raises ValueError for scale ≤ 0 or NaN parameters."""

    _mean_carrier_measure = 0

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """μ + σ·ε, ε ~ N(0, 1): d/dμ = 1, d/dσ = ε."""
        eps = standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        """-(x - μ)²/(2σ²) - log σ - log √(2π)."""
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale**2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() \
            - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value: Tensor) -> Tensor:
        """½(1 + erf((x - μ)/(σ√2)))."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)).erf())

    def icdf(self, value: Tensor) -> Tensor:
        """μ + σ·√2·erfinv(2p - 1)."""
        return self.loc + self.scale * (2 * value - 1).erfinv() * math.sqrt(2)

    def entropy(self) -> Tensor:
        """½ + ½·log(2π) + log σ."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()
