"""KL(p ‖ q) for the pairs with a ContinuousBernoulli that torch registers among ffnn's
families (torch's formulas, including its inf conditions for the Uniform pairs)."""

from __future__ import annotations

import math

from ffnn import ops
from ffnn.distributions.beta import Beta
from ffnn.distributions.continuous_bernoulli import ContinuousBernoulli
from ffnn.distributions.exponential import Exponential
from ffnn.distributions.gamma import Gamma
from ffnn.distributions.gumbel import Gumbel
from ffnn.distributions.kl import register_kl
from ffnn.distributions.kl_cross import register_infinite
from ffnn.distributions.laplace import Laplace
from ffnn.distributions.normal import Normal
from ffnn.distributions.pareto import Pareto
from ffnn.distributions.uniform import Uniform
from ffnn.tensor import Tensor

CB = ContinuousBernoulli


def _cross_entropy_with(p, q: CB) -> Tensor:
    """-H(p) - E_p[x]·logit q - log(1 - q) - log C(q): KL(p ‖ q) for p on [0, 1]."""
    return -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(CB, CB)
def _kl_cb_cb(p: CB, q: CB) -> Tensor:
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    return t1 + t2 - q._cont_bern_log_norm() - (-q.probs).log1p()


@register_kl(Beta, CB)
def _kl_beta_cb(p: Beta, q: CB) -> Tensor:
    return _cross_entropy_with(p, q)


@register_kl(Uniform, CB)
def _kl_uniform_cb(p: Uniform, q: CB) -> Tensor:
    """inf where p.high ≥ 1 or p.low ≤ 0 (torch's test)."""
    result = _cross_entropy_with(p, q)
    return ops.where((p.high >= 1.0) | (p.low <= 0.0), math.inf, result)


@register_kl(CB, Exponential)
def _kl_cb_exponential(p: CB, q: Exponential) -> Tensor:
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(CB, Normal)
def _kl_cb_normal(p: CB, q: Normal) -> Tensor:
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).square()) + q.scale.log()
    t3 = (p.variance + p.mean.square() - 2.0 * q.loc * p.mean) / (2.0 * q.scale.square())
    return -p.entropy() + t2 + t3


@register_kl(CB, Uniform)
def _kl_cb_uniform(p: CB, q: Uniform) -> Tensor:
    """inf where q.low ≥ 0 or q.high ≤ 1 (torch's test)."""
    result = -p.entropy() + (q.high - q.low).log()
    return ops.where((q.low >= 0.0) | (q.high <= 1.0), math.inf, result)


register_infinite("probs", (CB, Pareto))
register_infinite("rate", (Exponential, CB))
register_infinite("concentration", (Gamma, CB))
register_infinite("scale", (Pareto, CB))
register_infinite("loc", (Gumbel, CB), (Laplace, CB), (Normal, CB))
