"""``Poisson(rate)``: P(k) = λ^k e^{-λ} / k! on k = 0, 1, 2, …; samples are torch's
``torch.poisson`` draws (``torch_serial``)."""

from __future__ import annotations

from ffnn import autograd, functions_sampling
from ffnn.distributions import constraints
from ffnn.distributions.exp_family import ExponentialFamily
from ffnn.distributions.utils import as_size, broadcast_all, is_number
from ffnn.size import Size
from ffnn.tensor import Tensor

__all__ = ["Poisson"]


class Poisson(ExponentialFamily):
    """Poisson(λ = rate), ``rate`` of shape ``batch_shape``. Raises ValueError for λ < 0."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Tensor | float, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(Size() if is_number(rate) else self.rate.shape,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Poisson:
        new = self._get_checked_instance(Poisson, _instance)
        batch_shape = as_size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Poisson, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        """⌊λ⌋."""
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: tuple = ()) -> Tensor:
        """Counts of shape ``sample_shape + batch_shape`` in λ's dtype (torch's draws)."""
        shape = tuple(self._extended_shape(sample_shape))
        with autograd.no_grad():
            return functions_sampling.poisson(self.rate.expand(shape))

    def log_prob(self, value) -> Tensor:
        """k log λ - λ - lgamma(k + 1) (xlogy: 0·log 0 = 0)."""
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return value.xlogy(rate) - rate - (value + 1).lgamma()

    @property
    def _natural_params(self) -> tuple[Tensor]:
        return (self.rate.log(),)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return x.exp()
