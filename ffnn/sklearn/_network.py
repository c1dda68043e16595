"""The network behind the estimators: an MLP ``Sequential``.

``build_mlp`` makes ``Linear → [BatchNorm1d] → activation → [Dropout]`` per hidden layer and
a final ``Linear``, initialised as scikit-learn's MLP does (Glorot uniform). The estimators
train its parameters packed flat (``ffnn.optim.flat``).
"""

from __future__ import annotations

import math

from ffnn import nn
from ffnn.nn import mlp, traits

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
