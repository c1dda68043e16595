"""KL(p ‖ q) = ∫ p log(p/q): ``kl_divergence(p, q)`` looks up a function registered for the
pair of types with ``@register_kl(P, Q)`` (the most specific match by subclass, as torch's)
and returns a tensor of the batch shape, differentiable in both distributions' parameters."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from functools import total_ordering

import numpy as np

from ffnn import linalg, ops
from ffnn.distributions.bernoulli import Bernoulli
from ffnn.distributions.categorical import Categorical
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.exponential import Exponential
from ffnn.distributions.independent import Independent
from ffnn.distributions.laplace import Laplace
from ffnn.distributions.multivariate_normal import (
    MultivariateNormal,
    batch_mahalanobis,
    batch_trace_xxt,
)
from ffnn.distributions.normal import Normal
from ffnn.distributions.one_hot_categorical import OneHotCategorical
from ffnn.distributions.uniform import Uniform
from ffnn.distributions.utils import sum_rightmost
from ffnn.nn import functional as F
from ffnn.tensor import Tensor

__all__ = ["register_kl", "kl_divergence"]

_KL_REGISTRY: dict[tuple[type, type], Callable] = {}
_KL_MEMOIZE: dict[tuple[type, type], Callable] = {}


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator: register ``fn(p, q)`` as KL(p ‖ q) for p of ``type_p``, q of ``type_q``."""
    for name, kind in (("type_p", type_p), ("type_q", type_q)):
        if not (isinstance(kind, type) and issubclass(kind, Distribution)):
            raise TypeError(f"Expected {name} to be a Distribution subclass but got {kind}")

    def decorator(fn: Callable) -> Callable:
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMOIZE.clear()  # the most specific match may have changed
        return fn

    return decorator


@total_ordering
class _Match:
    """A registered pair, ordered so that the more specific pair is the smaller."""

    __slots__ = ["types"]

    def __init__(self, *types):
        self.types = types

    def __eq__(self, other):
        return self.types == other.types

    def __le__(self, other):
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p: type, type_q: type):
    """The most specific registered function for the pair (NotImplemented when none)."""
    matches = [(p, q) for p, q in _KL_REGISTRY if issubclass(type_p, p) and issubclass(type_q, q)]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fun, right_fun = _KL_REGISTRY[left_p, left_q], _KL_REGISTRY[right_p, right_q]
    if left_fun is not right_fun:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
                      f"Please register_kl({left_p.__name__}, {right_q.__name__})",
                      RuntimeWarning, stacklevel=2)
    return left_fun


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p ‖ q) of shape ``batch_shape``. Raises NotImplementedError for an unregistered pair."""
    try:
        fun = _KL_MEMOIZE[type(p), type(q)]
    except KeyError:
        fun = _KL_MEMOIZE[type(p), type(q)] = _dispatch_kl(type(p), type(q))
    if fun is NotImplemented:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return fun(p, q)


def _set(t: Tensor, mask: Tensor, value: float) -> Tensor:
    """``t`` with ``value`` where ``mask`` (broadcast) holds; no gradient flows there."""
    return ops.where(mask.expand(tuple(t.shape)), value, t)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    """p·log(p/q) + (1 - p)·log((1 - p)/(1 - q)), by softplus of the logits."""
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = _set(_set(t1, q.probs == 0, math.inf), p.probs == 0, 0.0)
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = _set(_set(t2, q.probs == 1, math.inf), p.probs == 1, 0.0)
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    """Σᵢ pᵢ·(log pᵢ - log qᵢ) (inf where qᵢ = 0 < pᵢ)."""
    t = p.probs * (p.logits - q.logits)
    t = _set(_set(t, q.probs == 0, math.inf), p.probs == 0, 0.0)
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    """½(σp²/σq² + (μp - μq)²/σq² - 1 - log(σp²/σq²))."""
    var_ratio = (p.scale / q.scale).pow(2)
    t1 = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    """log((q.high - q.low)/(p.high - p.low)); inf unless q's interval covers p's."""
    result = ((q.high - q.low) / (p.high - p.low)).log()
    return _set(result, (q.low > p.low) | (q.high < p.high), math.inf)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    """-log(bp/bq) + |μp - μq|/bq + (bp/bq)·exp(-|μp - μq|/bp) - 1."""
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    return -scale_ratio.log() + loc_abs_diff / q.scale \
        + scale_ratio * (-loc_abs_diff / p.scale).exp() - 1


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p: Exponential, q: Exponential) -> Tensor:
    """λq/λp - log(λq/λp) - 1."""
    rate_ratio = q.rate / p.rate
    return -rate_ratio.log() + rate_ratio - 1


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    """The base distributions' KL summed over the reinterpreted dims."""
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independent distributions with different "
                                  "reinterpreted_batch_ndims is not implemented")
    result = kl_divergence(p.base_dist, q.base_dist)
    return sum_rightmost(result, p.reinterpreted_batch_ndims)


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_multivariatenormal_multivariatenormal(p: MultivariateNormal,
                                              q: MultivariateNormal) -> Tensor:
    """½(log det Σq - log det Σp + tr(Σq⁻¹Σp) + (μq - μp)ᵀΣq⁻¹(μq - μp) - n)."""
    if p.event_shape != q.event_shape:
        raise ValueError("KL-divergence between two Multivariate Normals with different "
                         f"event shapes cannot be computed: {p.event_shape} vs "
                         f"{q.event_shape}")
    p_tril, q_tril = p._unbroadcasted_scale_tril, q._unbroadcasted_scale_tril
    half_term1 = q_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) - \
        p_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    n = p.event_shape[0]
    shape = np.broadcast_shapes(tuple(q_tril.shape[:-2]), tuple(p_tril.shape[:-2])) + (n, n)
    term2 = batch_trace_xxt(linalg.solve_triangular(q_tril.expand(shape), p_tril.expand(shape),
                                                    upper=False))
    term3 = batch_mahalanobis(q_tril, q.loc - p.loc)
    return half_term1 + 0.5 * (term2 + term3 - n)
