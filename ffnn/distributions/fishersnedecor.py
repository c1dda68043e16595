"""``FisherSnedecor(df1, df2)``: the F distribution, the ratio of two scaled χ² variables;
reparameterisable as torch's: X₁/X₂ with Xᵢ ~ Gamma(dfᵢ/2, dfᵢ) (implicit gradients)."""

from __future__ import annotations

import math

import numpy as np

from ffnn import ops
from ffnn.distributions import constraints
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.gamma import Gamma
from ffnn.distributions.utils import as_size, broadcast_all, is_number
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["FisherSnedecor"]


class FisherSnedecor(Distribution):
    """F(d₁ = df1, d₂ = df2), broadcast to ``batch_shape``. Raises ValueError for dᵢ ≤ 0."""

    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, df1: Tensor | float, df2: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.df1, self.df2 = broadcast_all(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        numbers = is_number(df1) and is_number(df2)
        super().__init__(Size() if numbers else self.df1.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> FisherSnedecor:
        new = self._get_checked_instance(FisherSnedecor, _instance)
        batch_shape = as_size(batch_shape)
        new.df1, new.df2 = self.df1.expand(batch_shape), self.df2.expand(batch_shape)
        new._gamma1 = self._gamma1.expand(batch_shape)
        new._gamma2 = self._gamma2.expand(batch_shape)
        super(FisherSnedecor, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """d₂/(d₂ - 2) for d₂ > 2, NaN otherwise."""
        df2 = ops.where(self.df2 <= 2, math.nan, self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self) -> Tensor:
        """(d₁ - 2)/d₁ · d₂/(d₂ + 2) for d₁ > 2, NaN otherwise."""
        mode = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return ops.where(self.df1 <= 2, math.nan, mode)

    @property
    def variance(self) -> Tensor:
        """2d₂²(d₁ + d₂ - 2)/(d₁(d₂ - 2)²(d₂ - 4)) for d₂ > 4, NaN otherwise."""
        df2 = ops.where(self.df2 <= 4, math.nan, self.df2)
        return 2 * df2.pow(2) * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2).pow(2) * (df2 - 4))

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """X₁/X₂ (X₁ drawn first), both at least the dtype's smallest normal."""
        shape = tuple(self._extended_shape(sample_shape))
        x1 = self._gamma1.rsample(sample_shape).reshape(shape)
        x2 = self._gamma2.rsample(sample_shape).reshape(shape)
        tiny = np.finfo(x2.dtype).tiny
        np.maximum(x2._data, tiny, out=x2._data)
        y = x1 / x2
        np.maximum(y._data, tiny, out=y._data)
        return y

    def log_prob(self, value: Tensor) -> Tensor:
        """log B-normaliser + (d₁/2) log(d₁/d₂) + (d₁/2 - 1) log x - (d₁ + d₂)/2·log1p(d₁x/d₂)."""
        if self._validate_args:
            self._validate_sample(value)
        ct1, ct2, ct3 = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = (ct1 + ct2).lgamma() - ct1.lgamma() - ct2.lgamma()
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        return t1 + t2 - (ct1 + ct2) * (ct3 * value).log1p()
