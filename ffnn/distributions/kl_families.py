"""KL(p ‖ q) for the pairs of one family that torch registers beyond ``kl``'s: Beta, Binomial,
Cauchy, Dirichlet, Gamma, Geometric, Gumbel, HalfNormal, Poisson, the low-rank and full
multivariate normals, and TransformedDistributions of the same transforms (torch's formulas,
differentiable in both distributions' parameters)."""

from __future__ import annotations

import math

import numpy as np

from ffnn import linalg
from ffnn.distributions.beta import Beta
from ffnn.distributions.binomial import Binomial
from ffnn.distributions.cauchy import Cauchy
from ffnn.distributions.dirichlet import Dirichlet
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.gamma import Gamma
from ffnn.distributions.geometric import Geometric
from ffnn.distributions.gumbel import Gumbel
from ffnn.distributions.half_normal import HalfNormal
from ffnn.distributions.kl import _kl_normal_normal, _set, kl_divergence, register_kl
from ffnn.distributions.lowrank_multivariate_normal import (
    LowRankMultivariateNormal,
    lowrank_logdet,
    lowrank_mahalanobis,
)
from ffnn.distributions.multivariate_normal import (
    MultivariateNormal,
    batch_mahalanobis,
    batch_trace_xxt,
)
from ffnn.distributions.poisson import Poisson
from ffnn.distributions.transformed_distribution import TransformedDistribution
from ffnn.distributions.utils import euler_constant, sum_rightmost
from ffnn.tensor import Tensor


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    """log B(αq, βq) - log B(αp, βp) + (αp - αq)ψ(αp) + (βp - βq)ψ(βp)
    + (αq + βq - αp - βp)ψ(αp + βp)."""
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + sum_p.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + sum_q.lgamma()
    t3 = (p.concentration1 - q.concentration1) * p.concentration1.digamma()
    t4 = (p.concentration0 - q.concentration0) * p.concentration0.digamma()
    return t1 - t2 + t3 + t4 + (sum_q - sum_p) * sum_p.digamma()


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p: Binomial, q: Binomial) -> Tensor:
    """n·(p log(p/q) + log((1 - p)/(1 - q))) for equal counts; inf where p's count is larger."""
    if bool((p.total_count < q.total_count).any()):
        raise NotImplementedError("KL between Binomials where q.total_count > p.total_count "
                                  "is not implemented")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p()
                          - (-q.probs).log1p())
    return _set(kl, p.total_count > q.total_count, math.inf)


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p: Cauchy, q: Cauchy) -> Tensor:
    """log(((γp + γq)² + (x₀p - x₀q)²) / (4γpγq))."""
    t1 = ((p.scale + q.scale).pow(2) + (p.loc - q.loc).pow(2)).log()
    return t1 - (4 * p.scale * q.scale).log()


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    """lgamma α₀ - lgamma β₀ - Σ(lgamma αᵢ - lgamma βᵢ) + Σ(αᵢ - βᵢ)(ψ(αᵢ) - ψ(α₀))."""
    sum_p, sum_q = p.concentration.sum(-1), q.concentration.sum(-1)
    t1 = sum_p.lgamma() - sum_q.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = p.concentration.digamma() - sum_p.digamma().unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    """αq log(βp/βq) + lgamma αq - lgamma αp + (αp - αq)ψ(αp) + (βq - βp)αp/βp."""
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = q.concentration.lgamma() - p.concentration.lgamma()
    t3 = (p.concentration - q.concentration) * p.concentration.digamma()
    return t1 + t2 + t3 + (q.rate - p.rate) * (p.concentration / p.rate)


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p: Gumbel, q: Gumbel) -> Tensor:
    """-log(βp/βq) - μq/βq + μp/βq + γβp/βq + exp(μq/βq + lgamma(1 + βp/βq) - μp/βq) - 1 - γ."""
    ct1, ct2, ct3 = p.scale / q.scale, q.loc / q.scale, p.loc / q.scale
    t1 = -ct1.log() - ct2 + ct3
    t3 = (ct2 + (1 + ct1).lgamma() - ct3).exp()
    return t1 + ct1 * euler_constant + t3 - (1 + euler_constant)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p: Geometric, q: Geometric) -> Tensor:
    """-H(p) - log(1 - q)/p - logit q."""
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p: HalfNormal, q: HalfNormal) -> Tensor:
    return _kl_normal_normal(p.base_dist, q.base_dist)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    """λp(log λp - log λq) - (λp - λq)."""
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(TransformedDistribution, TransformedDistribution)
def _kl_transformed_transformed(p, q) -> Tensor:
    """The bases' KL, when both push their bases through equal transforms."""
    if p.transforms != q.transforms or p.event_shape != q.event_shape:
        raise NotImplementedError
    return kl_divergence(p.base_dist, q.base_dist)


def _same_events(p, q, what: str) -> None:
    if p.event_shape != q.event_shape:
        raise ValueError(f"KL-divergence between two {what} with different event shapes "
                         "cannot be computed")


def _woodbury_factor(q: LowRankMultivariateNormal) -> Tensor:
    """A = L_C⁻¹ WᵀD⁻¹ of q (Σq⁻¹ = D⁻¹ - AᵀA)."""
    wt_dinv = q._unbroadcasted_cov_factor.mT / q._unbroadcasted_cov_diag.unsqueeze(-2)
    return linalg.solve_triangular(q._capacitance_tril, wt_dinv, upper=False)


def _lowrank_logdet(q: LowRankMultivariateNormal) -> Tensor:
    return lowrank_logdet(q._unbroadcasted_cov_diag, q._capacitance_tril)


def _lowrank_mahalanobis(q: LowRankMultivariateNormal, x: Tensor) -> Tensor:
    return lowrank_mahalanobis(q._unbroadcasted_cov_factor, q._unbroadcasted_cov_diag, x,
                               q._capacitance_tril)


@register_kl(LowRankMultivariateNormal, LowRankMultivariateNormal)
def _kl_lowrank_lowrank(p, q) -> Tensor:
    """½(log det Σq - log det Σp + tr(Σq⁻¹Σp) + (μq - μp)ᵀΣq⁻¹(μq - μp) - n)."""
    _same_events(p, q, "Low Rank Multivariate Normals")
    term1 = _lowrank_logdet(q) - _lowrank_logdet(p)
    term3 = _lowrank_mahalanobis(q, q.loc - p.loc)
    a = _woodbury_factor(q)
    p_w, p_d, q_d = p._unbroadcasted_cov_factor, p._unbroadcasted_cov_diag, \
        q._unbroadcasted_cov_diag
    term2 = ((p_d / q_d).sum(-1) + batch_trace_xxt(p_w * q_d.rsqrt().unsqueeze(-1))
             - batch_trace_xxt(a * p_d.sqrt().unsqueeze(-2)) - batch_trace_xxt(a @ p_w))
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(MultivariateNormal, LowRankMultivariateNormal)
def _kl_mvn_lowrank(p, q) -> Tensor:
    """The same, Σp = L·Lᵀ: tr(Σq⁻¹Σp) = |D^-½ L|² - |A L|²."""
    _same_events(p, q, "(Low Rank) Multivariate Normals")
    p_tril = p._unbroadcasted_scale_tril
    term1 = _lowrank_logdet(q) - 2 * p_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    term3 = _lowrank_mahalanobis(q, q.loc - p.loc)
    a = _woodbury_factor(q)
    term2 = batch_trace_xxt(p_tril * q._unbroadcasted_cov_diag.rsqrt().unsqueeze(-1)) \
        - batch_trace_xxt(a @ p_tril)
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(LowRankMultivariateNormal, MultivariateNormal)
def _kl_lowrank_mvn(p, q) -> Tensor:
    """The same, Σq = L·Lᵀ: tr(Σq⁻¹Σp) = |L⁻¹W|² + |L⁻¹D^½|²."""
    _same_events(p, q, "(Low Rank) Multivariate Normals")
    q_tril = q._unbroadcasted_scale_tril
    term1 = 2 * q_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) - _lowrank_logdet(p)
    term3 = batch_mahalanobis(q_tril, q.loc - p.loc)
    n, m = p.event_shape[0], p.cov_factor.shape[-1]
    batch = np.broadcast_shapes(tuple(q_tril.shape[:-2]),
                                tuple(p._unbroadcasted_cov_factor.shape[:-2]))
    q_tril = q_tril.expand(batch + (n, n))
    p_w = p._unbroadcasted_cov_factor.expand(batch + (n, m))
    p_d = p._unbroadcasted_cov_diag.sqrt().diag_embed().expand(batch + (n, n))
    term2 = batch_trace_xxt(linalg.solve_triangular(q_tril, p_w, upper=False)) \
        + batch_trace_xxt(linalg.solve_triangular(q_tril, p_d, upper=False))
    return 0.5 * (term1 + term2 + term3 - p.event_shape[0])


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q) -> Tensor:
    """The Bregman divergence of the log normaliser: F(θq) - F(θp) - Σ (θq - θp)·∇F(θp), for
    two distributions of one family without a closed form registered."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential "
                                  "families cannot be computed using Bregman divergences")
    p_nparams, lg_normal, gradients = p.bregman_parts()
    result = q._log_normalizer(*q._natural_params) - lg_normal
    for pnp, qnp, g in zip(p_nparams, q._natural_params, gradients):
        result = result - sum_rightmost((qnp - pnp) * g, len(q.event_shape))
    return result
