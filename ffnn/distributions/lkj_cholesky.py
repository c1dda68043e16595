"""``LKJCholesky(dim, concentration)``: the LKJ distribution over Cholesky factors L of
dim × dim correlation matrices, density ∝ Πᵢ Lᵢᵢ^{dim - i + 2(η - 1)} (η = concentration);
sampled as torch's, by the onion method from Beta draws and normal directions."""

from __future__ import annotations

import math

import numpy as np

from ffnn import autograd, creation, functions_math
from ffnn.distributions import constraints
from ffnn.distributions.beta import Beta
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size, broadcast_all, standard_normal
from ffnn.tensor import Tensor

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """LKJ(η = concentration) on dim × dim correlation Cholesky factors; ``concentration`` of
    shape ``batch_shape``. Raises ValueError for dim < 2 or η ≤ 0."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration: Tensor | float = 1.0,
                 validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError("Expected dim to be an integer greater than or equal to 2. "
                             f"Found dim={dim}.")
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        marginal = self.concentration + 0.5 * (dim - 2)
        offset = np.concatenate([[0.0], np.arange(dim - 1)]).astype(self.concentration.dtype)
        offset = Tensor._make(offset, False, None)
        self._beta = Beta(offset + 0.5, marginal.unsqueeze(-1) - 0.5 * offset)
        super().__init__(self.concentration.shape, (dim, dim), validate_args)

    def expand(self, batch_shape, _instance=None) -> LKJCholesky:
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = as_size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(batch_shape + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """Row i: √yᵢ times a random unit direction in its first i entries (yᵢ ~ Beta, drawn
        first, then the normals), the diagonal completing the row to unit length."""
        with autograd.no_grad():
            y = self._beta.sample(sample_shape).numpy()[..., None]
            u = np.tril(standard_normal(self._extended_shape(sample_shape), y.dtype).numpy(), -1)
            with np.errstate(invalid="ignore"):
                u = u / np.linalg.norm(u, axis=-1, keepdims=True)
            u[..., 0, :] = 0.0
            w = np.sqrt(y) * u
            diag = np.sqrt(np.maximum(1 - (w**2).sum(-1), np.finfo(w.dtype).tiny))
            idx = np.arange(self.dim)
            w[..., idx, idx] += diag
        return Tensor._make(w.astype(y.dtype), False, None)

    def log_prob(self, value: Tensor) -> Tensor:
        """Σᵢ₌₂ (2(η - 1) + dim - i) log Lᵢᵢ - log of the normaliser
        (½(dim-1) log π + mvlgamma(η + (dim - 2)/2, dim - 1) - (dim - 1) lgamma(η + (dim-1)/2))."""
        if self._validate_args:
            self._validate_sample(value)
        diag = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = creation.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalize = (0.5 * dm1 * math.log(math.pi) + functions_math.mvlgamma(alpha - 0.5, dm1)
                     - alpha.lgamma() * dm1)
        return unnormalized - normalize
