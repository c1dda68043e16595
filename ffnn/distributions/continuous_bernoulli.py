"""``ContinuousBernoulli(probs=… | logits=…)``: the density C(λ)·λ^x (1 - λ)^{1-x} on [0, 1]
(Loaiza-Ganem & Cunningham, 2019; VAEs on [0, 1] data), C(λ) = 2·atanh(1 - 2λ)/(1 - 2λ);
near λ = ½ (within ``lims``) the moments and the normaliser use torch's Taylor expansions.
Reparameterisable: x = F⁻¹(u) for torch's uniform u."""

from __future__ import annotations

import math

from ffnn import autograd, ops
from ffnn.distributions import constraints
from ffnn.distributions.bernoulli import bce_with_logits
from ffnn.distributions.binary import ProbsOrLogits
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.utils import (
    as_size,
    broadcast_all,
    clamp_probs,
    is_number,
    lazy_property,
    logits_to_probs,
    uniform,
)
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["ContinuousBernoulli"]


class ContinuousBernoulli(ProbsOrLogits, ExponentialFamily):
    """CB(λ) from ``probs`` λ ∈ [0, 1] (clamped to [ε, 1 - ε]) or ``logits``, not both."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True

    def __init__(self, probs: Tensor | float | None = None, logits: Tensor | float | None = None,
                 lims: tuple[float, float] = (0.499, 0.501),
                 validate_args: bool | None = None) -> None:
        self._given(probs, logits)
        if probs is not None:
            if validate_args is not None and \
                    not bool(self.arg_constraints["probs"].check(self.probs).all()):
                raise ValueError("The parameter probs has invalid values")
            self.probs = self._param = clamp_probs(self.probs)
        given = probs if probs is not None else logits
        self._lims = lims
        super().__init__(Size() if is_number(given) else self._param.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> ContinuousBernoulli:
        new = self._get_checked_instance(ContinuousBernoulli, _instance)
        new._lims = self._lims
        batch_shape = as_size(batch_shape)
        self._expand_into(new, batch_shape)
        super(ContinuousBernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def probs(self) -> Tensor:
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    def _outside_unstable_region(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        """λ, or the lower limit inside the unstable region (where the Taylor forms apply)."""
        return ops.where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self) -> Tensor:
        """log C(λ) = log|log(1 - λ) - log λ| - log|1 - 2λ|; near ½: log 2 + (4/3 + 104/45·t)t,
        t = (λ - ½)²."""
        cut = self._cut_probs()
        below = ops.where(cut <= 0.5, cut, 0.0)
        above = ops.where(cut >= 0.5, cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() \
            - ops.where(cut <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log())
        x = (self.probs - 0.5).pow(2)
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ops.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        """λ/(2λ - 1) + 1/(log(1 - λ) - log λ); near ½: ½ + (1/3 + 16/45·t²)t, t = λ - ½."""
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x.pow(2)) * x
        return ops.where(self._outside_unstable_region(), mus, taylor)

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    @property
    def variance(self) -> Tensor:
        """λ(λ - 1)/(1 - 2λ)² + 1/(log(1 - λ) - log λ)²; near ½: 1/12 - (1/15 - 128/945·t)t."""
        cut = self._cut_probs()
        variances = cut * (cut - 1.0) / (1.0 - 2.0 * cut).pow(2) \
            + 1.0 / ((-cut).log1p() - cut.log()).pow(2)
        x = (self.probs - 0.5).pow(2)
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ops.where(self._outside_unstable_region(), variances, taylor)

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        with autograd.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """F⁻¹(u), u torch's ``rand(shape)``."""
        return self.icdf(uniform(self._extended_shape(sample_shape), self.probs.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        """x·logit - softplus(logit) + log C(λ) (minus the BCE with logits)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -bce_with_logits(logits, value) + self._cont_bern_log_norm()

    def cdf(self, value: Tensor) -> Tensor:
        """(λ^x (1 - λ)^{1-x} + λ - 1)/(2λ - 1) on [0, 1] (x near ½: x)."""
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut.pow(value) * (1.0 - cut).pow(1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = ops.where(self._outside_unstable_region(), cdfs, value)
        return ops.where(value <= 0.0, 0.0, ops.where(value >= 1.0, 1.0, unbounded))

    def icdf(self, value: Tensor) -> Tensor:
        """(log1p(-λ + u(2λ - 1)) - log1p(-λ)) / (log λ - log1p(-λ)) (u near ½: u)."""
        cut = self._cut_probs()
        inverse = ((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) \
            / (cut.log() - (-cut).log1p())
        return ops.where(self._outside_unstable_region(), inverse, value)

    def entropy(self) -> Tensor:
        """mean·(log(1 - λ) - log λ) - log C(λ) - log(1 - λ)."""
        log_probs0, log_probs1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_probs0 - log_probs1) - self._cont_bern_log_norm() - log_probs0

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.logits,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        """log((e^θ - 1)/θ); near θ = 0: θ/2 + θ²/24 - θ⁴/2880."""
        outside = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = ops.where(outside, x, self._lims[0] - 0.5)
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x.pow(2) / 24.0 - x.pow(4) / 2880.0
        return ops.where(outside, log_norm, taylor)
