"""``Chi2(df)``: the χ² distribution with ``df`` degrees of freedom, Gamma(df/2, 1/2)."""

from __future__ import annotations

from ffnn.distributions import constraints
from ffnn.distributions.gamma import Gamma
from ffnn.tensor import Tensor

__all__ = ["Chi2"]


class Chi2(Gamma):
    """χ²(df) = Gamma(α = df/2, β = 1/2); ``df`` of shape ``batch_shape``."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df: Tensor | float, validate_args: bool | None = None) -> None:
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Chi2:
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self) -> Tensor:
        return self.concentration * 2
