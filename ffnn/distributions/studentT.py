"""``StudentT(df, loc, scale)``: density Γ((ν+1)/2) / (Γ(ν/2)√(νπ)σ) · (1 + y²/ν)^{-(ν+1)/2},
y = (x - μ)/σ; reparameterisable as torch's: μ + σ·X/√(Z/ν), X ~ N(0, 1), Z ~ χ²(ν)."""

from __future__ import annotations

import math

from ffnn import ops
from ffnn.distributions import constraints
from ffnn.distributions.chi2 import Chi2
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size, broadcast_all, standard_normal
from ffnn.tensor import Tensor

__all__ = ["StudentT"]


class StudentT(Distribution):
    """Student's t with ν = ``df`` degrees of freedom, location μ and scale σ, broadcast to
    ``batch_shape``. Raises ValueError for ν ≤ 0 or σ ≤ 0."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Tensor | float, loc: Tensor | float = 0.0,
                 scale: Tensor | float = 1.0, validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> StudentT:
        new = self._get_checked_instance(StudentT, _instance)
        batch_shape = as_size(batch_shape)
        new.df, new.loc, new.scale = (t.expand(batch_shape)
                                      for t in (self.df, self.loc, self.scale))
        new._chi2 = self._chi2.expand(batch_shape)
        super(StudentT, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """μ for ν > 1, NaN otherwise."""
        return ops.where(self.df <= 1, math.nan, self.loc)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """σ²ν/(ν - 2) for ν > 2, inf for 1 < ν ≤ 2, NaN for ν ≤ 1."""
        df = self.df
        safe = ops.where(df > 2, df, 3.0)
        finite = self.scale.pow(2) * safe / (safe - 2)
        heavy = ops.where(df <= 1, math.nan, df.new_full(df.shape, math.inf))
        return ops.where(df > 2, finite, heavy)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """μ + σ·X·rsqrt(Z/ν): the normal X drawn first, then the χ² Z (torch's order)."""
        shape = self._extended_shape(sample_shape)
        x = standard_normal(shape, self.df.dtype)
        z = self._chi2.rsample(sample_shape)
        return self.loc + self.scale * (x * (z / self.df).rsqrt())

    def log_prob(self, value: Tensor) -> Tensor:
        """-(ν+1)/2·log1p(y²/ν) - log σ - ½log ν - ½log π - lgamma(ν/2) + lgamma((ν+1)/2)."""
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma())
        return -0.5 * (self.df + 1.0) * (y**2.0 / self.df).log1p() - z

    def entropy(self) -> Tensor:
        """log σ + (ν+1)/2·(ψ((ν+1)/2) - ψ(ν/2)) + ½log ν + log B(ν/2, ½)."""
        df = self.df
        lbeta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (self.scale.log() + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma()
                                                     - (0.5 * df).digamma())
                + 0.5 * df.log() + lbeta)


