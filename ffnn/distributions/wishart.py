"""``Wishart(df, covariance_matrix= | precision_matrix= | scale_tril=)``: the distribution of
Σₖ xₖxₖᵀ over ν = df draws x ~ N(0, Σ), on p × p positive-definite matrices; reparameterisable
by Bartlett's decomposition (χ² diagonal through torch's implicit gamma gradients, normal
below it), drawn in torch's order."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ffnn import creation, functions_linalg, functions_math, linalg
from ffnn.distributions import constraints
from ffnn.distributions.chi2 import Chi2
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.multivariate_normal import precision_to_scale_tril
from ffnn.distributions.utils import (
    as_size,
    lazy_property,
    standard_normal,
    vec_to_tril_matrix,
)
from ffnn.tensor import Tensor

__all__ = ["Wishart"]

_LOG_2 = math.log(2)


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """Σᵢ₌₀^{p-1} ψ(x - i/2)."""
    if not bool((x > (p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    halves = Tensor._make(np.arange(p, dtype=x.dtype) / 2, False, None)
    return (x.unsqueeze(-1) - halves).digamma().sum(-1)


def _replace_rows(sample: Tensor, rows: np.ndarray, new: Tensor) -> Tensor:
    """``sample`` with the draws where ``rows`` (over the sample dims) holds replaced, in
    order, by ``new`` (torch's ``sample[rows] = new``), differentiable in both."""
    rest = tuple(sample.shape[rows.ndim:])
    flat = sample.reshape((-1,) + rest)
    index = np.arange(flat.shape[0])
    index[np.flatnonzero(rows)] = flat.shape[0] + np.arange(new.shape[0])
    joined = creation.cat([flat, new.reshape((-1,) + rest)], dim=0)
    return joined[Tensor._of(index)].reshape(tuple(sample.shape))


class Wishart(ExponentialFamily):
    """Wishart(ν = df, Σ) with Σ given by exactly one of ``covariance_matrix``,
    ``precision_matrix`` (its inverse) or ``scale_tril`` (its Cholesky factor). Raises
    ValueError for ν ≤ p - 1 or a matrix of fewer than two dims."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self):  # type: ignore[override]
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite,
                "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        given = [(n, m) for n, m in (("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix),
                                     ("scale_tril", scale_tril)) if m is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or "
                                 "scale_tril may be specified.")
        name, param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        batch_shape = self._set_df(df, param)
        p = param.shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        setattr(self, name, param.expand(tuple(batch_shape) + (p, p)))
        if bool((self.df < p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to "
                          "occur for ndim - 1 < df < ndim.", stacklevel=2)
        super().__init__(batch_shape, param.shape[-2:], validate_args=validate_args)
        self._batch_dims = [-(x + 1) for x in range(len(self._batch_shape))]
        self._unbroadcasted_scale_tril = (
            param if name == "scale_tril" else linalg.cholesky(param)
            if name == "covariance_matrix" else precision_to_scale_tril(param))
        self._dist_chi2 = self._chi2(batch_shape)

    def _set_df(self, df, param: Tensor):
        if isinstance(df, Tensor):
            batch_shape = as_size(np.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
            self.df = df.expand(tuple(batch_shape))
        else:
            batch_shape = as_size(param.shape[:-2])
            self.df = Tensor._make(np.asarray(df, dtype=param.dtype), False, None)
        return batch_shape

    def _chi2(self, batch_shape) -> Chi2:
        """χ²(ν - i), i = 0 … p-1: the squares of Bartlett's diagonal."""
        p = self._event_shape[-1]
        steps = Tensor._make(np.arange(p, dtype=self._unbroadcasted_scale_tril.dtype), False,
                             None)
        return Chi2(df=(self.df.unsqueeze(-1) - steps).expand(tuple(batch_shape) + (p,)))

    def expand(self, batch_shape, _instance=None) -> Wishart:
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = as_size(batch_shape)
        cov_shape = tuple(batch_shape + self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(tuple(batch_shape))
        new._batch_dims = [-(x + 1) for x in range(len(batch_shape))]
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        super(Wishart, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._chi2(batch_shape)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return tuple(self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        identity = creation.eye(self._event_shape[-1], dtype=self._unbroadcasted_scale_tril.dtype)
        return functions_linalg.cholesky_solve(identity, self._unbroadcasted_scale_tril).expand(
            self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        """νΣ."""
        return self.df.reshape(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        """(ν - p - 1)Σ for ν > p + 1, NaN otherwise."""
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = factor.masked_fill(factor <= 0, math.nan)
        return factor.reshape(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        """ν(Σᵢⱼ² + ΣᵢᵢΣⱼⱼ)."""
        v = self.covariance_matrix
        diag = v.diagonal(dim1=-2, dim2=-1)
        return self.df.reshape(tuple(self._batch_shape) + (1, 1)) * (
            v.pow(2) + diag.unsqueeze(-1) * diag.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape) -> Tensor:
        """L·A·Aᵀ·Lᵀ, A lower-triangular with √χ²(ν - i) on its diagonal (drawn first) and
        N(0, 1) below it."""
        p = self._event_shape[-1]
        diag = self._dist_chi2.rsample(sample_shape).sqrt()
        diag = diag.clamp(min=float(np.finfo(diag.dtype).eps)).diag_embed(dim1=-2, dim2=-1)
        normals = standard_normal(tuple(sample_shape) + tuple(self._batch_shape)
                                  + (p * (p - 1) // 2,), diag.dtype)
        chol = self._unbroadcasted_scale_tril @ (diag + vec_to_tril_matrix(normals, diag=-1))
        return chol @ chol.mT

    def _valid(self, sample: Tensor) -> np.ndarray:
        valid = self.support.check(sample).numpy()
        return np.asarray(valid.any(tuple(self._batch_dims)) if self._batch_shape else valid)

    def rsample(self, sample_shape: tuple = (), max_try_correction: int | None = None) -> Tensor:
        """Bartlett draws in torch's order. torch 2.13 tests the draws the wrong way round
        (positive-definite ones count as singular) and so draws those again, once (with a
        "Singular sample detected" warning); ffnn makes the same draws, without the
        misleading warning, so that a seed gives torch's numbers."""
        max_try_correction = 10 if max_try_correction is None else max_try_correction
        sample_shape = as_size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        redraw = self._valid(sample)
        for _ in range(max_try_correction if redraw.any() else 0):
            sample_new = self._bartlett_sampling((int(redraw.sum()),))
            sample = _replace_rows(sample, redraw, sample_new)
            redraw_new = ~self._valid(sample_new)
            redraw[redraw.copy()] = redraw_new
            if not redraw.any():
                break
        return sample

    def log_prob(self, value: Tensor) -> Tensor:
        """-ν(p log 2/2 + log det L) - mvlgamma(ν/2, p) + (ν - p - 1)/2·log det X
        - tr(Σ⁻¹X)/2."""
        if self._validate_args:
            self._validate_sample(value)
        nu, p = self.df, self._event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        return (-nu * (p * _LOG_2 / 2 + tril.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                - functions_math.mvlgamma(nu / 2, p)
                + (nu - p - 1) / 2 * linalg.slogdet(value).logabsdet
                - functions_linalg.cholesky_solve(value, tril).diagonal(dim1=-2, dim2=-1)
                .sum(-1) / 2)

    def entropy(self) -> Tensor:
        nu, p = self.df, self._event_shape[-1]
        tril = self._unbroadcasted_scale_tril
        return ((p + 1) * (p * _LOG_2 / 2 + tril.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                + functions_math.mvlgamma(nu / 2, p) - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
                + nu * p / 2)

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        nu, p = self.df, self._event_shape[-1]
        return (-self.precision_matrix / 2, (nu - p - 1) / 2)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + functions_math.mvlgamma(y + (p + 1) / 2, p))

