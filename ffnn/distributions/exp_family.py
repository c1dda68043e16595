"""``ExponentialFamily``: the base class of the exponential-family distributions (Normal,
Bernoulli, Exponential), as torch's. Each of them gives its entropy in closed form, so
torch's Bregman-divergence entropy and KL (which need second-order autograd) are left out."""

from __future__ import annotations

from ffnn.distributions.distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """p(x; θ) = exp(⟨t(x), θ⟩ - F(θ) + k(x))."""
