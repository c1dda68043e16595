"""More of ``torch.distributions.transforms``: softplus, stick-breaking (ℝ^{K-1} → simplex),
lower-Cholesky, reshape, a transform applied per event (``IndependentTransform``) and a
distribution's CDF as a transform; re-exported by ``transforms``."""

from __future__ import annotations

import math

import numpy as np

from ffnn import linalg
from ffnn.distributions import constraints
from ffnn.distributions.transform import Transform
from ffnn.distributions.transforms import _clipped_sigmoid, _same_type
from ffnn.distributions.utils import (
    as_size,
    sum_rightmost,
    tril_matrix_to_vec,
    vec_to_tril_matrix,
)
from ffnn.nn import functional as F
from ffnn.tensor import Tensor

__all__ = ["CorrCholeskyTransform", "CumulativeDistributionTransform", "IndependentTransform",
           "LowerCholeskyTransform", "PositiveDefiniteTransform", "ReshapeTransform",
           "SoftplusTransform", "StickBreakingTransform"]


class SoftplusTransform(Transform):
    """y = log(1 + eˣ); x = y + log(-expm1(-y)); log|det| = -softplus(-x)."""

    domain, codomain = constraints.real, constraints.positive
    bijective, sign = True, +1
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return F.softplus(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return (-y).expm1().neg().log() + y

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -F.softplus(-x)


def _offset(x: Tensor, extra: int) -> Tensor:
    """K - k for k = 1 … K-1 (``extra`` = 1 for x of K - 1 entries): the stick's pieces left."""
    n = x.shape[-1]
    return n + extra - x.new_ones((n,)).cumsum(-1)


class StickBreakingTransform(Transform):
    """ℝ^{K-1} → the K-simplex: zₖ = σ(xₖ - log(K - k)), yₖ = zₖ Πⱼ<ₖ (1 - zⱼ), the last
    entry the rest of the stick."""

    domain, codomain = constraints.real_vector, constraints.simplex
    bijective = True
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        z = _clipped_sigmoid(x - _offset(x, 1).log())
        z_cumprod = (1 - z).cumprod(-1)
        return F.pad(z, [0, 1], value=1) * F.pad(z_cumprod, [1, 0], value=1)

    def _inverse(self, y: Tensor) -> Tensor:
        y_crop = y[..., :-1]
        sf = (1 - y_crop.cumsum(-1)).clamp(min=float(_tiny(y)))
        return y_crop.log() - sf.log() + _offset(y_crop, 1).log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        x = x - _offset(x, 1).log()
        return (-x + F.logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return as_size(tuple(shape[:-1]) + (shape[-1] + 1,))

    def inverse_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return as_size(tuple(shape[:-1]) + (shape[-1] - 1,))


def _tiny(t: Tensor) -> float:
    return float(np.finfo(t.dtype).tiny)


class LowerCholeskyTransform(Transform):
    """Unconstrained square matrices → lower-triangular with a positive diagonal: the strict
    lower triangle kept, the diagonal exponentiated (no log|det|, as torch's)."""

    domain, codomain = constraints.independent(constraints.real, 2), constraints.lower_cholesky
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return x.tril(-1) + x.diagonal(dim1=-2, dim2=-1).exp().diag_embed()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.tril(-1) + y.diagonal(dim1=-2, dim2=-1).log().diag_embed()


class ReshapeTransform(Transform):
    """The event of shape ``in_shape`` reshaped to ``out_shape`` (the same number of
    entries); log|det| = 0."""

    bijective = True

    def __init__(self, in_shape, out_shape, cache_size: int = 0) -> None:
        self.in_shape, self.out_shape = as_size(in_shape), as_size(out_shape)
        if self.in_shape.numel() != self.out_shape.numel():
            raise ValueError("in_shape, out_shape have different numbers of elements")
        super().__init__(cache_size=cache_size)

    @constraints.dependent_property
    def domain(self):
        return constraints.independent(constraints.real, len(self.in_shape))

    @constraints.dependent_property
    def codomain(self):
        return constraints.independent(constraints.real, len(self.out_shape))

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return ReshapeTransform(self.in_shape, self.out_shape, cache_size=cache_size)

    def _call(self, x: Tensor) -> Tensor:
        return x.reshape(tuple(x.shape[:x.dim() - len(self.in_shape)]) + tuple(self.out_shape))

    def _inverse(self, y: Tensor) -> Tensor:
        return y.reshape(tuple(y.shape[:y.dim() - len(self.out_shape)]) + tuple(self.in_shape))

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x.new_zeros(tuple(x.shape[:x.dim() - len(self.in_shape)]))

    def forward_shape(self, shape):
        return _swap_event(shape, self.in_shape, self.out_shape)

    def inverse_shape(self, shape):
        return _swap_event(shape, self.out_shape, self.in_shape)


def _swap_event(shape, event, new_event):
    """``shape`` ending in ``event`` with ``new_event`` in its place (ValueError otherwise)."""
    if len(shape) < len(event):
        raise ValueError("Too few dimensions on input")
    cut = len(shape) - len(event)
    if tuple(shape[cut:]) != tuple(event):
        raise ValueError(f"Shape mismatch: expected {as_size(shape[cut:])} but got {event}")
    return as_size(tuple(shape[:cut]) + tuple(new_event))


class IndependentTransform(Transform):
    """``base_transform`` with ``reinterpreted_batch_ndims`` more dims in each event: its
    log|det| summed over them."""

    def __init__(self, base_transform: Transform, reinterpreted_batch_ndims: int,
                 cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.base_transform = base_transform.with_cache(cache_size)
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return IndependentTransform(self.base_transform, self.reinterpreted_batch_ndims,
                                    cache_size=cache_size)

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        return constraints.independent(self.base_transform.domain,
                                       self.reinterpreted_batch_ndims)

    @constraints.dependent_property(is_discrete=False)
    def codomain(self):
        return constraints.independent(self.base_transform.codomain,
                                       self.reinterpreted_batch_ndims)

    @property
    def bijective(self) -> bool:  # type: ignore[override]
        return self.base_transform.bijective

    @property
    def sign(self) -> int:
        return self.base_transform.sign

    def _call(self, x: Tensor) -> Tensor:
        if x.dim() < self.domain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform(x)

    def _inverse(self, y: Tensor) -> Tensor:
        if y.dim() < self.codomain.event_dim:
            raise ValueError("Too few dimensions on input")
        return self.base_transform.inv(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return sum_rightmost(self.base_transform.log_abs_det_jacobian(x, y),
                             self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_transform!r}, " \
               f"{self.reinterpreted_batch_ndims})"

    def forward_shape(self, shape):
        return self.base_transform.forward_shape(shape)

    def inverse_shape(self, shape):
        return self.base_transform.inverse_shape(shape)


class CumulativeDistributionTransform(Transform):
    """y = F(x), the CDF of ``distribution``; x = F⁻¹(y); log|det| = log p(x)."""

    bijective, sign = True, +1
    codomain = constraints.unit_interval

    def __init__(self, distribution, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.distribution = distribution

    @property
    def domain(self):  # type: ignore[override]
        return self.distribution.support

    def _call(self, x: Tensor) -> Tensor:
        return self.distribution.cdf(x)

    def _inverse(self, y: Tensor) -> Tensor:
        return self.distribution.icdf(y)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return self.distribution.log_prob(x)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CumulativeDistributionTransform(self.distribution, cache_size=cache_size)


class PositiveDefiniteTransform(Transform):
    """Unconstrained square matrices → positive-definite ones: L·Lᵀ, L their lower-Cholesky
    image; the inverse by a Cholesky factorisation."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y: Tensor) -> Tensor:
        return LowerCholeskyTransform().inv(linalg.cholesky(y))


class CorrCholeskyTransform(Transform):
    """ℝ^{D(D-1)/2} → Cholesky factors of correlation matrices: tanh of the vector into the
    strict lower triangle, each row completed by stick-breaking to unit length."""

    domain, codomain = constraints.real_vector, constraints.corr_cholesky
    bijective = True

    def _call(self, x: Tensor) -> Tensor:
        eps = float(np.finfo(x.dtype).eps)
        r = vec_to_tril_matrix(x.tanh().clamp(min=-1 + eps, max=1 - eps), diag=-1)
        z1m_cumprod_sqrt = (1 - r**2).sqrt().cumprod(-1)
        r = r + Tensor._make(np.eye(r.shape[-1], dtype=r.dtype), False, None)
        return r * F.pad(z1m_cumprod_sqrt[..., :-1], [1, 0], value=1)

    def _inverse(self, y: Tensor) -> Tensor:
        y_cumsum = 1 - (y * y).cumsum(-1)
        shifted = F.pad(y_cumsum[..., :-1], [1, 0], value=1)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(shifted, diag=-1).sqrt()
        return (t.log1p() - t.neg().log1p()) / 2

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor, intermediates=None) -> Tensor:
        """½Σ log(1 - Σⱼ<ₖ y²ᵢⱼ) (stick-breaking) - 2Σ(x + softplus(-2x) - log 2) (tanh)."""
        y1m_cumsum = tril_matrix_to_vec(1 - (y * y).cumsum(-1), diag=-2)
        tanh_logdet = -2 * (x + F.softplus(-2 * x) - math.log(2.0)).sum(-1)
        return 0.5 * y1m_cumsum.log().sum(-1) + tanh_logdet

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError("Input is not a flattened lower-diagonal number")
        return as_size(tuple(shape[:-1]) + (d, d))

    def inverse_shape(self, shape):
        if len(shape) < 2:
            raise ValueError("Too few dimensions on input")
        if shape[-2] != shape[-1]:
            raise ValueError("Input is not square")
        d = shape[-1]
        return as_size(tuple(shape[:-2]) + (d * (d - 1) // 2,))
