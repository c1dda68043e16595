"""``build_mlp``: the multi-layer perceptron that the CLI and the scikit-learn estimators build.

One hidden block is ``Linear → [BatchNorm1d | LayerNorm] → activation → [Dropout]``; the last
layer is a plain ``Linear`` (logits or regression outputs). Callers choose the activation, the
normalisation and how each ``Linear`` is initialised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ffnn.nn.container import Sequential
from ffnn.nn.linear import Linear
from ffnn.nn.module import Module
from ffnn.nn.normalization import BatchNorm1d, Dropout, LayerNorm

NORMS = {"batch": BatchNorm1d, "layer": LayerNorm}


def build_mlp(in_features: int, hidden_sizes: Sequence[int], out_features: int,
              activation: Callable[[], Module] | None, *, norm: str | None = None,
              dropout: float = 0.0, dtype=None, generator=None,
              init: Callable[[Linear], None] | None = None) -> Sequential:
    """Sequential MLP [n, in_features] → [n, out_features].

    ``activation``: a factory of the hidden layers' activation module (None: identity);
    ``norm``: 'batch', 'layer' or None; ``dropout``: the probability after each activation
    (0: no Dropout layer), drawn from ``generator``; ``init(linear)`` re-initialises each
    ``Linear`` right after it is built (PyTorch's default initialisation when None), so the
    draws from ``generator`` come layer by layer, input to output.
    """
    if norm is not None and norm not in NORMS:
        raise ValueError(f"build_mlp: norm must be one of {sorted(NORMS)} or None. "
                         f"Received: norm={norm!r}")
    layers: list[Module] = []
    sizes = [in_features, *hidden_sizes, out_features]
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = Linear(fan_in, fan_out, dtype=dtype, generator=generator)
        if init is not None:
            init(linear)
        layers.append(linear)
        if i == len(hidden_sizes):  # the output layer: no activation
            break
        if norm is not None:
            layers.append(NORMS[norm](fan_out, dtype=dtype))
        if activation is not None:
            layers.append(activation())
        if dropout > 0:
            layers.append(Dropout(dropout, generator=generator))
    return Sequential(*layers)
