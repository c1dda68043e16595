"""``Gumbel(loc, scale)``: density exp(-(z + e⁻ᶻ))/β, z = (x - μ)/β; built as torch's:
μ - β·log(-log u) for u ~ U(tiny, 1 - ε) (a TransformedDistribution of Uniform)."""

from __future__ import annotations

import math

import numpy as np

from ffnn.distributions import constraints
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.transforms import AffineTransform, ExpTransform
from ffnn.distributions.uniform import Uniform
from ffnn.distributions.utils import broadcast_all, euler_constant, is_number
from ffnn.tensor import Tensor

__all__ = ["Gumbel"]


class Gumbel(TransformedDistribution):
    """Gumbel(μ = loc, β = scale), broadcast to ``batch_shape``. Raises ValueError for
    β ≤ 0."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc: Tensor | float, scale: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        kind = np.finfo(self.loc.dtype)
        low, high = float(kind.tiny), 1 - float(kind.eps)
        if is_number(loc) and is_number(scale):
            base_dist = Uniform(low, high, validate_args=validate_args)
        else:
            base_dist = Uniform(self.loc.new_full(self.loc.shape, low),
                                self.loc.new_full(self.loc.shape, high),
                                validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(loc=0, scale=-self.scale.new_ones(
            self.scale.shape)), ExpTransform().inv, AffineTransform(loc=loc, scale=-self.scale)]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Gumbel:
        new = self._get_checked_instance(Gumbel, _instance)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value: Tensor) -> Tensor:
        """y - eʸ - log β, y = (μ - x)/β."""
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return y - y.exp() - self.scale.log()

    @property
    def mean(self) -> Tensor:
        """μ + βγ (γ Euler's constant)."""
        return self.loc + self.scale * euler_constant

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        """πβ/√6."""
        return math.pi / math.sqrt(6) * self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def entropy(self) -> Tensor:
        """log β + 1 + γ."""
        return self.scale.log() + (1 + euler_constant)
