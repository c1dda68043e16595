"""The whole model's parameters in one flat buffer, updated by one optimizer call.

``FlatParameters`` makes every parameter of a model a view into one contiguous buffer (the
Linear weights first, then biases and normalisation parameters) and ``FlatOptimizer`` is the
Trainer's view of an optimizer over that buffer. One update then covers the network (one
kernel call rather than one per tensor), one copy snapshots it, and an L2 term over
``flat._data[:n_weights]`` is every Linear weight. The fused step (``ffnn.compiler.fused``)
recognises the layout and updates the views in place with the flat optimizer's state.
The scikit-learn estimators train this way.
"""

from __future__ import annotations

import numpy as np

from ffnn import nn
from ffnn.nn.parameter import Parameter


def _linear_weight_ids(model: nn.Module) -> set[int]:
    return {id(m.weight) for m in model.modules() if isinstance(m, nn.Linear)}


class FlatParameters:
    """Every parameter of ``model`` as a view into one flat buffer, ``flat``.

    The Linear weights come first (``flat._data[:n_weights]``, the part L2 / weight decay
    applies to), then biases and normalisation parameters. Each model parameter's ``._data``
    and ``.grad`` are views of ``flat._data`` and ``flat.grad``, so one optimizer step on
    ``flat`` updates the whole model in place, and ``backward`` accumulates into
    ``flat.grad`` directly.
    """

    def __init__(self, model: nn.Module):
        self.model = model
        params = self._ordered()
        dtype = params[0]._data.dtype
        self.flat = Parameter(np.zeros(sum(p._data.size for p in params), dtype))
        self.link()

    def _ordered(self) -> list[Parameter]:
        weight_ids = _linear_weight_ids(self.model)
        params = list(self.model.parameters())
        return ([p for p in params if id(p) in weight_ids]
                + [p for p in params if id(p) not in weight_ids])

    def link(self) -> bool:
        """Copy the model's current values into ``flat`` and make each parameter's ``._data``
        a view of it (needed again after unpickling, ``model.to(...)`` or ``load``).

        Returns False, changing nothing, when the model's parameters no longer fit the
        buffer (sizes or dtype changed); the caller then builds new ``FlatParameters``.
        """
        params, flat = self._ordered(), self.flat
        if (sum(p._data.size for p in params) != flat._data.size
                or any(p._data.dtype != flat._data.dtype for p in params)):
            return False
        flat._grad = np.zeros_like(flat._data)
        self.pairs: list[tuple[Parameter, np.ndarray]] = []
        weight_ids = _linear_weight_ids(self.model)
        start = self.n_weights = 0
        for param in params:
            stop = start + param._data.size
            shape = param._data.shape
            flat._data[start:stop] = param._data.ravel()
            param._data = flat._data[start:stop].reshape(shape)
            self.pairs.append((param, flat._grad[start:stop].reshape(shape)))
            if id(param) in weight_ids:
                self.n_weights = stop
            start = stop
        return True

    def zero_grad(self) -> None:
        """Point each parameter's ``.grad`` at its slice of ``flat.grad``, zeroed."""
        self.flat._grad.fill(0)
        for param, grad in self.pairs:
            param._grad = grad

    def release_grads(self) -> None:
        """Detach the model's ``.grad`` from the buffer (user code then sees no stale views)."""
        for param, _ in self.pairs:
            param._grad = None


class FlatOptimizer:
    """The Trainer's view of an optimizer over ``flat.flat``: ``zero_grad`` re-points every
    parameter's ``.grad`` at its zeroed slice of the flat gradient, ``step`` updates all."""

    def __init__(self, optimizer, flat: FlatParameters):
        self.optimizer, self.flat = optimizer, flat
        self.zero_grad, self.step = flat.zero_grad, optimizer.step  # called every batch

    @property
    def param_groups(self) -> list[dict]:
        return self.optimizer.param_groups

    def state_dict(self) -> dict:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state)
