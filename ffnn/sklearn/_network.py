"""The network behind the estimators: an MLP ``Sequential`` and its parameters packed flat.

``build_mlp`` makes ``Linear → [BatchNorm1d] → activation → [Dropout]`` per hidden layer and
a final ``Linear``, initialised as scikit-learn's MLP does (Glorot uniform). ``FlatParameters``
lays every parameter out in one contiguous buffer (Linear weights first) so that the optimizer
updates the whole network with one call instead of one per tensor.
"""

from __future__ import annotations

import math

import numpy as np

from ffnn import nn
from ffnn.nn import mlp, traits
from ffnn.nn.parameter import Parameter

SKLEARN_NAMES = ("identity", "logistic")
"""scikit-learn's own names: 'identity' (no activation layer) and 'logistic' (sigmoid)."""
ACTIVATIONS = (*SKLEARN_NAMES, *traits.names("activation"))
"""The ``activation`` values the estimators accept: scikit-learn's, then the activation
names the layers declare (``ffnn.nn.traits``)."""


def build_mlp(n_features: int, hidden_layer_sizes: tuple[int, ...], n_outputs: int,
              activation: str, dropout: float, batch_norm: bool, dtype, generator) -> nn.Sequential:
    """Sequential MLP [n, n_features] → [n, n_outputs], Glorot-uniform initialised.

    Weights and biases ~ U(-b, b), b = √(f / (fan_in + fan_out)), f = 2 for 'logistic' and
    6 otherwise (scikit-learn's rule), drawn from ``generator``.
    """
    found = None if activation == "identity" else traits.lookup("activation", activation)
    factor = 2.0 if found is not None and issubclass(found[0].cls, nn.Sigmoid) else 6.0

    def glorot(linear: nn.Linear) -> None:
        bound = math.sqrt(factor / (linear.in_features + linear.out_features))
        nn.init.uniform_(linear.weight, -bound, bound, generator)
        nn.init.uniform_(linear.bias, -bound, bound, generator)

    factory = None if found is None else (lambda: found[0].cls(**found[1]))
    return mlp.build_mlp(n_features, hidden_layer_sizes, n_outputs, factory,
                         norm="batch" if batch_norm else None, dropout=dropout, dtype=dtype,
                         generator=generator, init=glorot)


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The model's ``Linear`` layers, input to output."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


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
        weight_ids = {id(m.weight) for m in linear_layers(self.model)}
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
        weight_ids = {id(m.weight) for m in linear_layers(self.model)}
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
