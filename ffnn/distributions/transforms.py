"""The transforms of ``torch.distributions.transforms``: y = exp x, x^p, σ(x), tanh x, |x|,
μ + σx and softmax, each with its inverse and log|det ∂y/∂x|, built from ffnn's
differentiable ops (the base classes are in ``transform``)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ffnn.distributions import constraints
from ffnn.distributions.transform import ComposeTransform, Transform, identity_transform
from ffnn.distributions.utils import broadcast_all, lazy_property
from ffnn.nn import functional as F
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = [
    "AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
    "PositiveDefiniteTransform",
    "CumulativeDistributionTransform", "StackTransform",
    "ExpTransform", "IndependentTransform", "LowerCholeskyTransform", "PowerTransform",
    "ReshapeTransform", "SigmoidTransform", "SoftmaxTransform", "SoftplusTransform",
    "StickBreakingTransform", "TanhTransform", "Transform", "identity_transform",
]


def _same_type(self, other) -> bool:
    return isinstance(other, type(self))


class ExpTransform(Transform):
    """y = eˣ; log|det| = x."""

    domain, codomain = constraints.real, constraints.positive
    bijective, sign = True, +1
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return x.exp()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return x


class PowerTransform(Transform):
    """y = xᵖ on x > 0; log|det| = log|p·y/x|."""

    domain, codomain = constraints.positive, constraints.positive
    bijective = True

    def __init__(self, exponent: Tensor | float, cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        (self.exponent,) = broadcast_all(exponent)

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return PowerTransform(self.exponent, cache_size=cache_size)

    @lazy_property
    def sign(self) -> Tensor:
        return self.exponent.sign()

    def __eq__(self, other) -> bool:
        return isinstance(other, PowerTransform) and \
            bool(self.exponent.eq(other.exponent).all().item())

    __hash__ = Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return x.pow(self.exponent)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return (self.exponent * y / x).abs().log()

    def forward_shape(self, shape):
        return _broadcast_shape(shape, self.exponent)

    inverse_shape = forward_shape


def _broadcast_shape(shape, *params) -> Size:
    """``shape`` broadcast with the shapes of the tensor ``params``."""
    shapes = [tuple(p.shape) for p in params if isinstance(p, Tensor)]
    return Size(np.broadcast_shapes(tuple(shape), *shapes))


def _clipped_sigmoid(x: Tensor) -> Tensor:
    """σ(x) kept within [smallest normal, 1 - ε] of x's dtype."""
    kind = np.finfo(x.dtype)
    return x.sigmoid().clamp(min=float(kind.tiny), max=1.0 - float(kind.eps))


class SigmoidTransform(Transform):
    """y = σ(x) = 1/(1 + e⁻ˣ); log|det| = -softplus(-x) - softplus(x)."""

    domain, codomain = constraints.real, constraints.unit_interval
    bijective, sign = True, +1
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return _clipped_sigmoid(x)

    def _inverse(self, y: Tensor) -> Tensor:
        kind = np.finfo(y.dtype)
        y = y.clamp(min=float(kind.tiny), max=1.0 - float(kind.eps))
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return -F.softplus(-x) - F.softplus(x)


class TanhTransform(Transform):
    """y = tanh x; log|det| = 2(log 2 - x - softplus(-2x)) (stable for large |x|)."""

    domain, codomain = constraints.real, constraints.interval(-1.0, 1.0)
    bijective, sign = True, +1
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return x.tanh()

    def _inverse(self, y: Tensor) -> Tensor:
        return y.atanh()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        return 2.0 * (math.log(2.0) - x - F.softplus(-2.0 * x))


class AbsTransform(Transform):
    """y = |x| (not bijective; the inverse returns y)."""

    domain, codomain = constraints.real, constraints.positive
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        return x.abs()

    def _inverse(self, y: Tensor) -> Tensor:
        return y


class AffineTransform(Transform):
    """y = loc + scale·x; log|det| = log|scale| (summed over ``event_dim`` dims)."""

    bijective = True

    def __init__(self, loc: Tensor | float, scale: Tensor | float, event_dim: int = 0,
                 cache_size: int = 0) -> None:
        super().__init__(cache_size=cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def event_dim(self) -> int:
        return self._event_dim

    @constraints.dependent_property(is_discrete=False)
    def domain(self):
        if self.event_dim == 0:
            return constraints.real
        return constraints.independent(constraints.real, self.event_dim)

    codomain = domain

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return AffineTransform(self.loc, self.scale, self.event_dim, cache_size=cache_size)

    def __eq__(self, other) -> bool:
        if not isinstance(other, AffineTransform):
            return False
        return _equal(self.loc, other.loc) and _equal(self.scale, other.scale)

    __hash__ = Transform.__hash__

    @property
    def sign(self) -> Tensor | int:
        if isinstance(self.scale, numbers.Number):
            return 1 if float(self.scale) > 0 else -1 if float(self.scale) < 0 else 0
        return self.scale.sign()

    def _call(self, x: Tensor) -> Tensor:
        return self.loc + self.scale * x

    def _inverse(self, y: Tensor) -> Tensor:
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        shape = tuple(x.shape)
        if isinstance(self.scale, numbers.Number):
            result = x.new_full(x.shape, math.log(abs(self.scale)))
        else:
            result = self.scale.abs().log()
        if self.event_dim:
            result = result.reshape(tuple(result.shape)[:-self.event_dim] + (-1,)).sum(-1)
            shape = shape[:-self.event_dim]
        return result.expand(shape)

    def forward_shape(self, shape):
        return _broadcast_shape(shape, self.loc, self.scale)

    inverse_shape = forward_shape


def _equal(a, b) -> bool:
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return a == b
    return bool((a == b).all().item())


class SoftmaxTransform(Transform):
    """y = softmax(x) over the last dim (not bijective: the inverse is log y)."""

    domain, codomain = constraints.real_vector, constraints.simplex
    __eq__, __hash__ = _same_type, Transform.__hash__

    def _call(self, x: Tensor) -> Tensor:
        probs = (x - x.max(-1, True)[0]).exp()
        return probs / probs.sum(-1, True)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def forward_shape(self, shape):
        if len(shape) < 1:
            raise ValueError("Too few dimensions on input")
        return shape

    inverse_shape = forward_shape


# the rest of torch's transforms, here under torch's module name (they use the helpers above)
from ffnn.distributions.transforms_joined import CatTransform, StackTransform  # noqa: E402
from ffnn.distributions.transforms_more import (  # noqa: E402
    CorrCholeskyTransform,
    CumulativeDistributionTransform,
    IndependentTransform,
    LowerCholeskyTransform,
    PositiveDefiniteTransform,
    ReshapeTransform,
    SoftplusTransform,
    StickBreakingTransform,
)
