"""``Beta(concentration1, concentration0)``: density x^{α-1} (1-x)^{β-1} / B(α, β) on
[0, 1], with α = concentration1, β = concentration0 (mixup's λ ~ Beta(a, a)).

``rsample`` is torch's: the first entry of a Dirichlet(α, β) draw, with torch's implicit
gradient (``dirichlet_grad``); ``log_prob``, ``entropy`` and the moments are differentiable in
α and β.
"""

from __future__ import annotations

from ffnn import ops
from ffnn.distributions import constraints
from ffnn.distributions.dirichlet_grad import sample_dirichlet
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.utils import as_size, broadcast_all, is_number
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["Beta"]


class Beta(ExponentialFamily):
    """Beta(α = concentration1, β = concentration0), both of shape ``batch_shape``."""

    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1: Tensor | float, concentration0: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1,
                                                                 concentration0)
        numbers = is_number(concentration1) and is_number(concentration0)
        super().__init__(Size() if numbers else self.concentration1.shape,
                         validate_args=validate_args)

    def __repr__(self) -> str:
        """``Beta()``, as torch's: it keeps the concentrations in an inner Dirichlet, so its
        repr finds none of its parameters among its attributes."""
        return "Beta()"

    def expand(self, batch_shape, _instance=None) -> Beta:
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = as_size(batch_shape)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        super(Beta, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        """α / (α + β)."""
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        """(α − 1)⁺ / ((α − 1)⁺ + (β − 1)⁺), as torch's: 1 or 0 (at the larger concentration)
        where both are below 1, the density peaking at both ends."""
        a, b = (c - 1 for c in (self.concentration1, self.concentration0))
        a, b = a.clamp(min=0.0), b.clamp(min=0.0)
        both_below = ((self.concentration1 < 1) & (self.concentration0 < 1)).numpy()
        ends = (self.concentration1 >= self.concentration0).to(a.dtype)
        return ends.where(Tensor._of(both_below), a / (a + b))

    @property
    def variance(self) -> Tensor:
        """αβ / ((α + β)² (α + β + 1))."""
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def rsample(self, sample_shape: tuple = ()) -> Tensor:
        """Draws of shape ``sample_shape + batch_shape``: torch's, the first of a Dirichlet
        draw of (α, β) (γ_α / (γ_α + γ_β), γ ~ Gamma(·, 1)), with torch's gradient."""
        shape = tuple(self._extended_shape(sample_shape))
        pairs = ops.stack([c.expand(shape) for c in (self.concentration1,
                                                     self.concentration0)], -1)
        return sample_dirichlet(pairs)[..., 0]

    def _log_beta(self) -> Tensor:
        """log B(α, β) = lgamma α + lgamma β − lgamma(α + β)."""
        a, b = self.concentration1, self.concentration0
        return a.lgamma() + b.lgamma() - (a + b).lgamma()

    def log_prob(self, value: Tensor) -> Tensor:
        """(α − 1) log x + (β − 1) log(1 − x) − log B(α, β)."""
        if self._validate_args:
            self._validate_sample(value)
        value = value if isinstance(value, Tensor) else Tensor._of(value)
        a, b = self.concentration1, self.concentration0
        return (a - 1) * value.log() + (b - 1) * (-value).log1p() - self._log_beta()

    def entropy(self) -> Tensor:
        """log B(α, β) − (α − 1) ψ(α) − (β − 1) ψ(β) + (α + β − 2) ψ(α + β)."""
        a, b = self.concentration1, self.concentration0
        return (self._log_beta() - (a - 1) * a.digamma() - (b - 1) * b.digamma()
                + (a + b - 2) * (a + b).digamma())

    @property
    def _natural_params(self) -> tuple[Tensor, Tensor]:
        return (self.concentration1, self.concentration0)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return x.lgamma() + y.lgamma() - (x + y).lgamma()
