"""``MultivariateNormal(loc, covariance_matrix= | precision_matrix= | scale_tril=)``:
N(μ, Σ) in n dimensions, Σ = L·Lᵀ; every computation goes through the Cholesky factor L."""

from __future__ import annotations

import math

import numpy as np

from ffnn import linalg
from ffnn.distributions import constraints
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size, lazy_property, standard_normal
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["MultivariateNormal"]


def batch_mahalanobis(lower: Tensor, x: Tensor) -> Tensor:
    """xᵀ(L·Lᵀ)⁻¹x = |L⁻¹x|² for L (..., n, n) and x (..., n), batches broadcast."""
    batch = np.broadcast_shapes(tuple(lower.shape[:-2]), tuple(x.shape[:-1]))
    n = x.shape[-1]
    solved = linalg.solve_triangular(lower.expand(batch + (n, n)),
                                     x.expand(batch + (n,)).unsqueeze(-1), upper=False)
    return solved.squeeze(-1).pow(2).sum(-1)


def batch_trace_xxt(matrices: Tensor) -> Tensor:
    """tr(X·Xᵀ) = Σ X²ᵢⱼ of each matrix."""
    return matrices.pow(2).sum((-2, -1))


def precision_to_scale_tril(precision: Tensor) -> Tensor:
    """L with L·Lᵀ = P⁻¹: the Cholesky factor of the flipped P, flipped back, inverted."""
    flipped = linalg.cholesky(precision.flip(-2, -1))
    inverse = flipped.flip(-2, -1).transpose(-2, -1)
    identity = Tensor._make(np.eye(precision.shape[-1], dtype=precision.dtype), False, None)
    return linalg.solve_triangular(inverse, identity.expand(tuple(inverse.shape)), upper=False)


def _at_least(tensor: Tensor, ndim: int, name: str) -> None:
    if tensor.dim() < ndim:
        raise ValueError(f"{name} must be at least {'one' if ndim == 1 else 'two'}-dimensional"
                         f"{', with optional leading batch dimensions' if ndim == 2 else ''}. "
                         f"Received: shape {tuple(tensor.shape)}")


class MultivariateNormal(Distribution):
    """N(loc, Σ) with exactly one of ``covariance_matrix`` Σ, ``precision_matrix`` Σ⁻¹ or
    ``scale_tril`` L (lower-triangular, positive diagonal); ``loc`` (..., n) and the matrix
    (..., n, n) broadcast to ``batch_shape``; event shape (n,)."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        _at_least(loc, 1, "loc")
        given = {"covariance_matrix": covariance_matrix, "precision_matrix": precision_matrix,
                 "scale_tril": scale_tril}
        given = {k: v for k, v in given.items() if v is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        (name, matrix), = given.items()
        _at_least(matrix, 2, f"{name} matrix" if name == "scale_tril" else name)
        batch_shape = Size(np.broadcast_shapes(tuple(matrix.shape[:-2]),
                                               tuple(loc.shape[:-1])))
        setattr(self, name, matrix.expand(batch_shape + tuple(matrix.shape[-2:])))
        self.loc = loc.expand(batch_shape + (loc.shape[-1],))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        self._unbroadcasted_scale_tril = {
            "scale_tril": lambda m: m, "covariance_matrix": linalg.cholesky,
            "precision_matrix": precision_to_scale_tril}[name](matrix)

    def expand(self, batch_shape, _instance=None) -> MultivariateNormal:
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = as_size(batch_shape)
        cov_shape = batch_shape + self.event_shape + self.event_shape
        new.loc = self.loc.expand(batch_shape + self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        super(MultivariateNormal, new).__init__(batch_shape, self.event_shape,
                                                validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return tuple(self._batch_shape + self._event_shape + self._event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        lower = self._unbroadcasted_scale_tril
        return (lower @ lower.transpose(-2, -1)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """(L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹."""
        lower = self._unbroadcasted_scale_tril
        identity = Tensor._make(np.eye(lower.shape[-1], dtype=lower.dtype), False, None)
        inverse = linalg.solve_triangular(lower, identity.expand(tuple(lower.shape)),
                                          upper=False)
        return (inverse.transpose(-2, -1) @ inverse).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """diag(Σ) = Σⱼ L²ᵢⱼ."""
        variance = self._unbroadcasted_scale_tril.pow(2).sum(-1)
        return variance.expand(tuple(self._batch_shape + self._event_shape))

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """μ + L·ε, ε ~ N(0, I)."""
        eps = standard_normal(self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        """½·log det Σ = Σᵢ log Lᵢᵢ."""
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Tensor) -> Tensor:
        """-½(n·log 2π + (x - μ)ᵀΣ⁻¹(x - μ)) - ½·log det Σ."""
        if self._validate_args:
            self._validate_sample(value)
        mahalanobis = batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + mahalanobis) - self._half_log_det()

    def entropy(self) -> Tensor:
        """½·n·(1 + log 2π) + ½·log det Σ."""
        n = self._event_shape[0]
        entropy = 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return entropy if not self._batch_shape else entropy.expand(tuple(self._batch_shape))
