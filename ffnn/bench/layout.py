"""The model of a benchmark case, declared once for every library.

A case's network is a stack of ``Linear`` layers; each hidden one is followed by an optional
norm (``BatchNorm1d`` or ``LayerNorm``), the activation and an optional ``Dropout``. The
layers are listed here as plain tuples (their index is their position in
``nn.Sequential``), with the initial state every library loads, so that ffnn, PyTorch and
JAX train the very same network from the very same weights.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("relu", "gelu", "silu", "tanh", "sigmoid", "leaky_relu")
"""The sweep's activations."""
SHAPE_ACTIVATIONS = ACTIVATIONS + ("gelu_tanh", "elu", "selu", "softplus", "celu", "softsign",
                                   "mish", "hardswish", "hardsigmoid", "hardtanh", "relu6",
                                   "logsigmoid")
"""Every activation a case may have (``--shape``): the sweep's, GELU's tanh form, and the
other element-wise activations torch and ``jax.nn`` both have (PyTorch's defaults)."""
NORMS = ("none", "batch_norm", "layer_norm")
LEAKY_SLOPE = 0.01
NORM_EPS = 1e-5
BATCH_NORM_MOMENTUM = 0.1


def layers(sizes: tuple[int, ...], activation: str, norm: str = "none",
           dropout: float = 0.0) -> list[tuple]:
    """``[("linear", in, out) | (norm, features) | ("act", name) | ("dropout", p), …]``.

    Raises ValueError for an unknown activation or norm, a dropout outside [0, 1) or fewer
    than two sizes.
    """
    if activation not in SHAPE_ACTIVATIONS:
        raise ValueError(f"activation must be one of {SHAPE_ACTIVATIONS}. Received: "
                         f"activation={activation!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}. Received: norm={norm!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
    if len(sizes) < 2 or any(int(s) < 1 for s in sizes):
        raise ValueError(f"sizes must be two or more positive widths. Received: sizes={sizes}")
    out: list[tuple] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        out.append(("linear", int(fan_in), int(fan_out)))
        if i == len(sizes) - 2:
            break
        if norm != "none":
            out.append((norm, int(fan_out)))
        out.append(("act", activation))
        if dropout > 0:
            out.append(("dropout", float(dropout)))
    return out


def init_state(plan: list[tuple], dtype: str = "float32", seed: int = 0) -> dict[str, np.ndarray]:
    """The initial ``state_dict`` (PyTorch's names and default ranges): a Linear's weight
    [out, in] and bias [out] uniform in ±1/√in; a norm's weight ones and bias zeros; batch
    norm's running mean 0, running variance 1 and ``num_batches_tracked`` 0."""
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}
    for i, layer in enumerate(plan):
        kind = layer[0]
        if kind == "linear":
            fan_in, fan_out = layer[1], layer[2]
            bound = 1.0 / np.sqrt(fan_in)
            state[f"{i}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype)
            state[f"{i}.bias"] = rng.uniform(-bound, bound, fan_out).astype(dtype)
        elif kind in ("batch_norm", "layer_norm"):
            state[f"{i}.weight"] = np.ones(layer[1], dtype)
            state[f"{i}.bias"] = np.zeros(layer[1], dtype)
            if kind == "batch_norm":
                state[f"{i}.running_mean"] = np.zeros(layer[1], dtype)
                state[f"{i}.running_var"] = np.ones(layer[1], dtype)
                state[f"{i}.num_batches_tracked"] = np.zeros((), np.int64)
    return state


def linear_shapes(plan: list[tuple]) -> list[tuple[int, int]]:
    """(in, out) of every Linear, in order."""
    return [(layer[1], layer[2]) for layer in plan if layer[0] == "linear"]
