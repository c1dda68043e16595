"""``Dirichlet(concentration)``: density Γ(α₀) / Πᵢ Γ(αᵢ) · Πᵢ xᵢ^{αᵢ-1} on the simplex
(α₀ = Σᵢ αᵢ), reparameterisable with torch's implicit gradient (``dirichlet_grad``)."""

from __future__ import annotations

import numpy as np

from ffnn.distributions import constraints
from ffnn.distributions.dirichlet_grad import sample_dirichlet
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.utils import as_size
from ffnn.tensor import Tensor

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """Dirichlet(α = concentration), α of shape ``batch_shape + (K,)``; events are vectors
    of K probabilities. Raises ValueError for a 0-d α or αᵢ ≤ 0."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        shape = tuple(concentration.shape)
        super().__init__(shape[:-1], shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Dirichlet:
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration = self.concentration.expand(tuple(batch_shape) + tuple(self.event_shape))
        super(Dirichlet, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """torch's ``_sample_dirichlet`` draws (normalised Gamma(αᵢ, 1) draws)."""
        shape = tuple(self._extended_shape(sample_shape))
        return sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        """Σᵢ (αᵢ - 1) log xᵢ + lgamma α₀ - Σᵢ lgamma αᵢ."""
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (a - 1.0).xlogy(value).sum(-1) + a.sum(-1).lgamma() - a.lgamma().sum(-1)

    @property
    def mean(self) -> Tensor:
        """αᵢ / α₀."""
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        """(αᵢ - 1)⁺ / Σⱼ (αⱼ - 1)⁺; where every αᵢ < 1, the vertex of the largest."""
        shifted = (self.concentration - 1).clamp(min=0.0)
        mode = shifted / shifted.sum(-1, keepdim=True)
        corners = (self.concentration < 1).all(dim=-1).numpy()
        if corners.any():
            data = np.array(mode.detach().numpy())
            picked = data[corners]
            data[corners] = np.eye(picked.shape[-1], dtype=data.dtype)[picked.argmax(-1)]
            mode = Tensor._make(data, False, None)
        return mode

    @property
    def variance(self) -> Tensor:
        """αᵢ(α₀ - αᵢ) / (α₀²(α₀ + 1))."""
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total.pow(2) * (total + 1))

    def entropy(self) -> Tensor:
        """Σ lgamma αᵢ - lgamma α₀ - (K - α₀)ψ(α₀) - Σ (αᵢ - 1)ψ(αᵢ)."""
        a = self.concentration
        k, total = a.shape[-1], a.sum(-1)
        return (a.lgamma().sum(-1) - total.lgamma() - (k - total) * total.digamma()
                - ((a - 1.0) * a.digamma()).sum(-1))

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()
