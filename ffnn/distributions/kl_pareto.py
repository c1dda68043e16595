"""KL(p ‖ q) for the pairs with a Pareto that torch registers among ffnn's families
(torch's formulas; inf where p's support reaches outside q's or a moment diverges)."""

from __future__ import annotations

import math

from ffnn.distributions.beta import Beta
from ffnn.distributions.exponential import Exponential
from ffnn.distributions.gamma import Gamma
from ffnn.distributions.gumbel import Gumbel
from ffnn.distributions.kl import _set, register_kl
from ffnn.distributions.kl_cross import _x_log_x, register_infinite
from ffnn.distributions.laplace import Laplace
from ffnn.distributions.normal import Normal
from ffnn.distributions.pareto import Pareto
from ffnn.distributions.uniform import Uniform
from ffnn.tensor import Tensor


@register_kl(Pareto, Pareto)
def _kl_pareto_pareto(p: Pareto, q: Pareto) -> Tensor:
    """αq log(x_p/x_q) - log(αq/αp) + αq/αp - 1; inf where x_p < x_q."""
    alpha_ratio = q.alpha / p.alpha
    result = q.alpha * (p.scale / q.scale).log() - alpha_ratio.log() + alpha_ratio - 1
    return _set(result, p.scale < q.scale, math.inf)


register_infinite("concentration1", (Beta, Pareto))
register_infinite("rate", (Exponential, Pareto))
register_infinite("concentration", (Gamma, Pareto))
register_infinite("loc", (Gumbel, Pareto), (Laplace, Pareto), (Normal, Pareto))
register_infinite("scale", (Pareto, Beta), (Pareto, Uniform))


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p: Pareto, q: Exponential) -> Tensor:
    prod = p.scale * q.rate
    result = (p.alpha / prod).log() - p.alpha.reciprocal() + p.alpha * prod / (p.alpha - 1) - 1
    return _set(result, p.alpha <= 1, math.inf)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p: Pareto, q: Gamma) -> Tensor:
    common = p.scale.log() + p.alpha.reciprocal()
    t1 = p.alpha.log() - common
    t2 = q.concentration.lgamma() - q.concentration * q.rate.log()
    t3 = (1 - q.concentration) * common
    t4 = q.rate * p.alpha * p.scale / (p.alpha - 1)
    return _set(t1 + t2 + t3 + t4 - 1, p.alpha <= 1, math.inf)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p: Pareto, q: Normal) -> Tensor:
    var_normal = 2 * q.scale.pow(2)
    common = p.scale / (p.alpha - 1)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t3 = p.alpha * common.pow(2) / (p.alpha - 2)
    t4 = (p.alpha * common - q.loc).pow(2)
    result = t1 - p.alpha.reciprocal() + (t3 + t4) / var_normal - 1
    return _set(result, p.alpha <= 2, math.inf)


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p: Uniform, q: Pareto) -> Tensor:
    width = p.high - p.low
    t1 = (q.alpha * q.scale.pow(q.alpha) * width).log()
    t2 = (_x_log_x(p.high) - _x_log_x(p.low) - width) / width
    return _set(t2 * (q.alpha + 1) - t1, p.low < q.scale, math.inf)
