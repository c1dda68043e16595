"""``Exponential(rate)``: density λ·e^{-λx} on x ≥ 0, reparameterisable (x = E/λ)."""

from __future__ import annotations

import numpy as np

from ffnn.distributions import constraints
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.utils import as_size, broadcast_all, is_number
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """Exp(λ = rate), ``rate`` of shape ``batch_shape``. Raises ValueError for rate ≤ 0."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate: Tensor | float, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size() if is_number(rate) else self.rate.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Exponential:
        new = self._get_checked_instance(Exponential, _instance)
        batch_shape = as_size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Exponential, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return self.rate.new_zeros(self.rate.shape)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate.pow(-2)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """E/λ, E ~ Exp(1) (torch's ``rate.new(shape).exponential_() / rate``)."""
        shape = tuple(self._extended_shape(sample_shape))
        draw = Tensor._make(np.empty(shape, self.rate.dtype), False, None).exponential_()
        return draw / self.rate

    def log_prob(self, value: Tensor) -> Tensor:
        """log λ - λx."""
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value: Tensor) -> Tensor:
        """1 - e^{-λx}."""
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        """-log(1 - p)/λ."""
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        """1 - log λ."""
        return 1.0 - self.rate.log()


    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (-self.rate,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return -(-x).log()
