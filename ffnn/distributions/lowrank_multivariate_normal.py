"""``LowRankMultivariateNormal(loc, cov_factor, cov_diag)``: N(μ, W·Wᵀ + D) in n dims with
W (n × m) and D diagonal; log_prob and entropy in O(n·m²) through the capacitance
C = I + Wᵀ D⁻¹ W (Woodbury and the matrix determinant lemma), as torch's."""

from __future__ import annotations

import math

import numpy as np

from ffnn import linalg
from ffnn.distributions import constraints
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.multivariate_normal import batch_mahalanobis
from ffnn.distributions.utils import as_size, lazy_property, standard_normal
from ffnn.tensor import Tensor

__all__ = ["LowRankMultivariateNormal"]


def _plus_identity(matrix: Tensor) -> Tensor:
    n = matrix.shape[-1]
    return matrix + Tensor._make(np.eye(n, dtype=matrix.dtype), False, None)


def _batch_mv(matrix: Tensor, vector: Tensor) -> Tensor:
    return (matrix @ vector.unsqueeze(-1)).squeeze(-1)


def capacitance_tril(w: Tensor, d: Tensor) -> Tensor:
    """The Cholesky factor of C = I + Wᵀ D⁻¹ W (m × m)."""
    wt_dinv = w.mT / d.unsqueeze(-2)
    return linalg.cholesky(_plus_identity(wt_dinv @ w))


def lowrank_logdet(d: Tensor, cap_tril: Tensor) -> Tensor:
    """log det(W·Wᵀ + D) = log det C + log det D."""
    return 2 * cap_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + d.log().sum(-1)


def lowrank_mahalanobis(w: Tensor, d: Tensor, x: Tensor, cap_tril: Tensor) -> Tensor:
    """xᵀ(W·Wᵀ + D)⁻¹x = xᵀD⁻¹x - |L_C⁻¹ WᵀD⁻¹x|² (Woodbury)."""
    wt_dinv_x = _batch_mv(w.mT / d.unsqueeze(-2), x)
    return (x.pow(2) / d).sum(-1) - batch_mahalanobis(cap_tril, wt_dinv_x)


def _check_shapes(loc: Tensor, cov_factor: Tensor, cov_diag: Tensor) -> tuple:
    """ValueError for shapes torch refuses; else the broadcast batch + event shape."""
    if loc.dim() < 1:
        raise ValueError("loc must be at least one-dimensional.")
    event_shape = tuple(loc.shape[-1:])
    if cov_factor.dim() < 2:
        raise ValueError("cov_factor must be at least two-dimensional, with optional leading "
                         "batch dimensions")
    if tuple(cov_factor.shape[-2:-1]) != event_shape:
        raise ValueError(f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m")
    if tuple(cov_diag.shape[-1:]) != event_shape:
        raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
    try:
        return np.broadcast_shapes(tuple(loc.shape) + (1,), tuple(cov_factor.shape),
                                   tuple(cov_diag.shape) + (1,))
    except ValueError as e:
        raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor "
                         f"{cov_factor.shape}, cov_diag {cov_diag.shape}") from e


class LowRankMultivariateNormal(Distribution):
    """N(loc, cov_factor·cov_factorᵀ + diag(cov_diag)); ``loc`` (..., n), ``cov_factor``
    (..., n, m), ``cov_diag`` (..., n) > 0. Raises ValueError for bad shapes or values."""

    arg_constraints = {"loc": constraints.real_vector,
                       "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, cov_factor: Tensor, cov_diag: Tensor,
                 validate_args: bool | None = None) -> None:
        shape = _check_shapes(loc, cov_factor, cov_diag)
        self.loc = loc.unsqueeze(-1).expand(shape)[..., 0]
        self.cov_factor = cov_factor.expand(shape)
        self.cov_diag = cov_diag.unsqueeze(-1).expand(shape)[..., 0]
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = capacitance_tril(cov_factor, cov_diag)
        super().__init__(self.loc.shape[:-1], loc.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LowRankMultivariateNormal:
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = as_size(batch_shape)
        loc_shape = batch_shape + self.event_shape
        new.loc = self.loc.expand(loc_shape)
        new.cov_diag = self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + self.cov_factor.shape[-1:])
        for name in ("_unbroadcasted_cov_factor", "_unbroadcasted_cov_diag",
                     "_capacitance_tril"):
            setattr(new, name, getattr(self, name))
        super(LowRankMultivariateNormal, new).__init__(batch_shape, self.event_shape,
                                                       validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return tuple(self._batch_shape + self._event_shape + self._event_shape)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        """Σⱼ W²ᵢⱼ + Dᵢ."""
        variance = self._unbroadcasted_cov_factor.pow(2).sum(-1) + self._unbroadcasted_cov_diag
        return variance.expand(tuple(self._batch_shape + self._event_shape))

    @lazy_property
    def scale_tril(self) -> Tensor:
        """D^½ · chol(I + D^-½ W Wᵀ D^-½)."""
        sqrt_d = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        scaled = self._unbroadcasted_cov_factor / sqrt_d
        return (sqrt_d * linalg.cholesky(_plus_identity(scaled @ scaled.mT))).expand(
            self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        """W·Wᵀ + diag(D)."""
        w = self._unbroadcasted_cov_factor
        return (w @ w.mT + self._unbroadcasted_cov_diag.diag_embed()).expand(
            self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """D⁻¹ - AᵀA, A = L_C⁻¹ WᵀD⁻¹ (Woodbury)."""
        d = self._unbroadcasted_cov_diag
        wt_dinv = self._unbroadcasted_cov_factor.mT / d.unsqueeze(-2)
        a = linalg.solve_triangular(self._capacitance_tril, wt_dinv, upper=False)
        return (d.reciprocal().diag_embed() - a.mT @ a).expand(self._matrix_shape())

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """μ + W·ε_W + √D·ε_D (ε_W of m entries drawn first, then ε_D, torch's order)."""
        shape = self._extended_shape(sample_shape)
        eps_w = standard_normal(tuple(shape[:-1]) + tuple(self.cov_factor.shape[-1:]),
                                self.loc.dtype)
        eps_d = standard_normal(shape, self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_cov_factor, eps_w) \
            + self._unbroadcasted_cov_diag.sqrt() * eps_d

    def log_prob(self, value: Tensor) -> Tensor:
        """-½(n·log 2π + log det Σ + (x - μ)ᵀΣ⁻¹(x - μ))."""
        if self._validate_args:
            self._validate_sample(value)
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        m = lowrank_mahalanobis(w, d, value - self.loc, self._capacitance_tril)
        log_det = lowrank_logdet(d, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + log_det + m)

    def entropy(self) -> Tensor:
        """½(n(1 + log 2π) + log det Σ)."""
        log_det = lowrank_logdet(self._unbroadcasted_cov_diag, self._capacitance_tril)
        h = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + log_det)
        return h if len(self._batch_shape) == 0 else h.expand(tuple(self._batch_shape))
