"""``Laplace(loc, scale)``: density exp(-|x - μ|/b) / 2b, reparameterisable."""

from __future__ import annotations

import numpy as np

from ffnn.distributions import constraints
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size, broadcast_all, is_number, uniform
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["Laplace"]


class Laplace(Distribution):
    """Laplace(μ = loc, b = scale); ``loc`` and ``scale`` broadcast to ``batch_shape``.
    Raises ValueError for scale ≤ 0 or NaN parameters."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Tensor | float, scale: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        scalar = is_number(loc) and is_number(scale)
        super().__init__(Size() if scalar else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Laplace:
        new = self._get_checked_instance(Laplace, _instance)
        batch_shape = as_size(batch_shape)
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        super(Laplace, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

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
