"""``Gamma(concentration, rate)``: density β^α x^{α-1} e^{-βx} / Γ(α) on x ≥ 0,
reparameterisable through torch's implicit gradient of the gamma draws (``gamma_grad``)."""

from __future__ import annotations

import numpy as np

from ffnn import functions_math
from ffnn.distributions import constraints
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.gamma_grad import standard_gamma
from ffnn.distributions.utils import as_size, broadcast_all, is_number
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["Gamma"]


def as_value(value, like: Tensor) -> Tensor:
    """``value`` as a tensor of ``like``'s dtype (torch's ``as_tensor(value, dtype=…)``)."""
    if isinstance(value, Tensor):
        return value if value.dtype == like.dtype else value.to(like.dtype)
    return Tensor._make(np.asarray(value, dtype=like.dtype), False, None)


class Gamma(ExponentialFamily):
    """Gamma(α = concentration, β = rate), both of shape ``batch_shape``.
    Raises ValueError for α ≤ 0 or β ≤ 0 (or NaN)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration: Tensor | float, rate: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        numbers = is_number(concentration) and is_number(rate)
        super().__init__(Size() if numbers else self.concentration.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Gamma:
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Gamma, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """α / β."""
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        """((α - 1) / β)⁺."""
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        """α / β²."""
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """G / β, G ~ Gamma(α, 1) (torch's draws), at least the dtype's smallest normal;
        dG/dα is torch's implicit gradient, d/dβ = -G/β²."""
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        np.maximum(value._data, np.finfo(value.dtype).tiny, out=value._data)
        return value

    def log_prob(self, value) -> Tensor:
        """α log β + (α - 1) log x - βx - lgamma α (xlogy: 0·log 0 = 0)."""
        value = as_value(value, self.rate)
        if self._validate_args:
            self._validate_sample(value)
        a, b = self.concentration, self.rate
        return a.xlogy(b) + (a - 1).xlogy(value) - b * value - a.lgamma()

    def cdf(self, value: Tensor) -> Tensor:
        """P(α, βx), the regularized lower incomplete gamma function (differentiable in β and
        x; in α torch's raises, and so does ffnn's)."""
        if self._validate_args:
            self._validate_sample(value)
        return functions_math.igamma(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        """α - log β + lgamma α + (1 - α) ψ(α)."""
        a = self.concentration
        return a - self.rate.log() + a.lgamma() + (1.0 - a) * a.digamma()

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return (x + 1).lgamma() + (x + 1) * (-y.reciprocal()).log()
