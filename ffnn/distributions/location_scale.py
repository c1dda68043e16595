"""The part Normal and Laplace share: a real location μ (``loc``) and a positive scale
(``scale``), broadcast together to the batch shape; ``expand``, ``mean`` and ``mode`` (μ)."""

from __future__ import annotations

from ffnn.distributions import constraints
from ffnn.distributions.distribution import Distribution
from ffnn.distributions.utils import as_size, broadcast_all, is_number
from ffnn.size import Size
from ffnn.tensor import Tensor


class LocationScale:
    """Mixed into a ``Distribution`` subclass before it."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Tensor | float, scale: Tensor | float,
                 validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        scalar = is_number(loc) and is_number(scale)
        super().__init__(Size() if scalar else self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        owner = next(c for c in type(self).__mro__ if LocationScale in c.__bases__)
        new = self._get_checked_instance(owner, _instance)
        batch_shape = as_size(batch_shape)
        new.loc, new.scale = self.loc.expand(batch_shape), self.scale.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc
