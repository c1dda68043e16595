"""``ExponentialFamily``: the base class of the exponential-family distributions, as torch's:
p(x; θ) = exp(⟨t(x), θ⟩ - F(θ) + k(x)) with natural parameters θ (``_natural_params``), log
normaliser F (``_log_normalizer``) and E[k(x)] (``_mean_carrier_measure``). Its ``entropy`` is
the Bregman form F(θ) - ⟨θ, ∇F(θ)⟩ - E[k] (through second-order autograd); the families
here override it with their closed forms, as torch's do."""

from __future__ import annotations

from ffnn import autograd
from ffnn.distributions.distribution import Distribution
from ffnn.tensor import Tensor

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """p(x; θ) = exp(⟨t(x), θ⟩ - F(θ) + k(x))."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        """θ, a tuple of tensors (a subclass gives them)."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        """F(θ) (a subclass gives it)."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        """E[k(x)] (a subclass gives it)."""
        raise NotImplementedError

    def bregman_parts(self) -> tuple[list[Tensor], Tensor, tuple[Tensor, ...]]:
        """θ as fresh leaves, F(θ) and ∇F(θ) (kept differentiable)."""
        nparams = [p.detach().requires_grad_() for p in self._natural_params]
        with autograd.enable_grad():
            lg_normal = self._log_normalizer(*nparams)
            gradients = autograd.grad(lg_normal.sum(), nparams, create_graph=True)
        return nparams, lg_normal, gradients

    def entropy(self) -> Tensor:
        """-E[k] + F(θ) - Σ θ·∇F(θ), each parameter's product summed over its event entries."""
        result = -self._mean_carrier_measure
        nparams, lg_normal, gradients = self.bregman_parts()
        result = result + lg_normal
        for p, g in zip(nparams, gradients):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
