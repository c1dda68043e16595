"""Net2Net (Chen, Goodfellow & Shlens, 2016): grow a trained network without changing its function.

``widen``  (Net2WiderNet): hidden unit j of the new layer copies old unit g(j); the next
layer's weights from a copied unit are divided by its copy count, so
``Σⱼ W₂[:, g(j)]/count(g(j)) · h[g(j)] = Σᵢ W₂[:, i] · h[i]``.
``deepen`` (Net2DeeperNet): insert ``Linear`` with W = I, b = 0 and the same activation φ
after φ, when φ is idempotent: ``relu(I · relu(x)) = relu(x)``.

Which layers widening passes through (element-wise ones, norms) and which activations
deepening accepts are the layers' declared traits (``ffnn.nn.traits``).
"""

from __future__ import annotations

import copy

import numpy as np

from ffnn import random as _random
from ffnn.finetune.lora import set_child
from ffnn.nn import traits
from ffnn.nn.container import Sequential
from ffnn.nn.linear import Linear
from ffnn.nn.parameter import Parameter

_NORMS = ("batch_norm", "feature_norm")


def _role(module) -> str | None:
    """"elementwise", "batch_norm", "feature_norm" or None, as the module's class declares."""
    declared = traits.of(module)
    if declared is None:
        return None
    if declared.net2net in _NORMS:
        return declared.net2net
    return "elementwise" if declared.elementwise else None


def _layer_at(model, index, owner: str):
    if not isinstance(model, Sequential):
        raise TypeError(f"{owner} needs an ffnn.nn.Sequential model. Received: "
                        f"{type(model).__name__}")
    if isinstance(index, bool) or not isinstance(index, int) or \
            not -len(model) <= index < len(model):
        raise IndexError(f"{owner}: index must be a position in the Sequential (length "
                         f"{len(model)}). Received: index={index!r}")
    return index % len(model), model[index]


def _replicate(rng, old: int, new: int, uniform: bool) -> np.ndarray:
    """g: new unit -> old unit; the first ``old`` units map to themselves."""
    if uniform:
        return np.arange(new) % old
    return np.concatenate([np.arange(old), rng.integers(0, old, new - old)])


def widen(model: Sequential, index: int, new_width: int, noise: float = 0.0,
          generator=None) -> Sequential:
    """Give the hidden ``Linear`` at ``index`` ``new_width`` output units, function unchanged.

    Layers between it and the next Linear may be element-wise activations, Dropout, Identity,
    BatchNorm1d (its statistics are replicated) or LayerNorm/RMSNorm (then ``new_width`` must
    be a multiple of the old width, so that every unit is copied equally often and the
    normalisation statistics stay the same). ``noise`` > 0 adds ``noise · std(W) · N(0, 1)``
    to the incoming weights of the new units (breaks symmetry; the output then changes
    slightly). Build the optimizer afterwards.
    """
    index, layer = _layer_at(model, index, "widen")
    if type(layer) is not Linear:
        raise TypeError(f"widen: position {index} must be a Linear. Received: "
                        f"{type(layer).__name__}")
    old = layer.out_features
    if isinstance(new_width, bool) or not isinstance(new_width, int) or new_width < old:
        raise ValueError(f"widen: new_width must be an integer >= the current width {old}. "
                         f"Received: new_width={new_width!r}")
    if not isinstance(noise, (int, float)) or isinstance(noise, bool) or not noise >= 0:
        raise ValueError(f"widen: noise must be a number >= 0. Received: noise={noise!r}")
    between, after = _layers_between(model, index)
    feature_norm = any(_role(model[j]) == "feature_norm" for j in between)
    if feature_norm and new_width % old:
        raise ValueError(f"widen: a LayerNorm/RMSNorm follows position {index}, so new_width "
                         f"must be a multiple of {old}. Received: new_width={new_width}")
    rng = _random.rng(generator)
    g = _replicate(rng, old, new_width, feature_norm)
    counts = np.bincount(g, minlength=old)
    wider = _copy_linear(layer, layer.in_features, new_width)
    wider.weight._data[...] = layer.weight._data[g]
    if layer.bias is not None:
        wider.bias._data[...] = layer.bias._data[g]
    if noise and new_width > old:
        std = float(layer.weight._data.std()) or 1.0
        extra = rng.standard_normal((new_width - old, layer.in_features)) * noise * std
        wider.weight._data[old:] += extra.astype(wider.weight.dtype)
    set_child(model, list(model._modules)[index], wider)
    for j in between:
        if _role(model[j]) in _NORMS:
            set_child(model, list(model._modules)[j], _widen_norm(model[j], g, old, new_width))
    nxt = model[after]
    following = _copy_linear(nxt, new_width, nxt.out_features)
    following.weight._data[...] = nxt.weight._data[:, g] / counts[g]
    if nxt.bias is not None:
        following.bias._data[...] = nxt.bias._data
    set_child(model, list(model._modules)[after], following)
    return model


def _layers_between(model: Sequential, index: int) -> tuple[list[int], int]:
    """The positions after ``index`` up to the next Linear, and that Linear's position;
    TypeError for a layer widening cannot pass (no element-wise or norm role declared)."""
    between = []
    for j in range(index + 1, len(model)):
        module = model[j]
        if isinstance(module, Linear):
            return between, j
        if _role(module) is None:
            raise TypeError(f"widen: cannot widen through {type(module).__name__} at position "
                            f"{j} (allowed between the two Linears: element-wise activations, "
                            "Dropout, BatchNorm1d, LayerNorm, RMSNorm)")
        between.append(j)
    raise ValueError(f"widen: the Linear at position {index} is the output layer (no Linear "
                     "follows it); widen a hidden layer")


def _copy_linear(layer: Linear, n_in: int, n_out: int) -> Linear:
    new = Linear(n_in, n_out, bias=layer.bias is not None, dtype=layer.weight.dtype)
    new.weight.requires_grad_(layer.weight.requires_grad)
    if layer.bias is not None:
        new.bias.requires_grad_(layer.bias.requires_grad)
    return new


def _widen_norm(norm, g: np.ndarray, old: int, new_width: int):
    """The same normalisation over ``new_width`` features (its declared ``resize``), each
    copying feature g(j): per-feature parameters and statistics indexed by g, the rest copied."""
    state = {**norm._parameters, **norm._buffers}
    for name, value in state.items():
        if value is not None and value.ndim == 1 and value.shape[0] != old:
            raise ValueError(f"widen: {type(norm).__name__} has {value.shape[0]} features "
                             f"({name}), expected {old}")
    new = traits.of(norm).resize(norm, new_width)
    new.training = norm.training
    for name, value in state.items():
        if value is None:
            continue
        data = value.numpy()[g].copy() if value.ndim == 1 else value.numpy().copy()
        if name in norm._parameters:
            setattr(new, name, Parameter(data, requires_grad=value.requires_grad))
        else:
            setattr(new, name, data)
    return new


def deepen(model: Sequential, index: int) -> Sequential:
    """Insert ``Linear(width, width)`` with W = I, b = 0 and a copy of the activation φ right
    after the φ at ``index`` (width = the preceding Linear's out_features); the function is
    unchanged.

    Raises TypeError when φ does not declare itself idempotent (``net2net="idempotent"``, as
    ReLU): for other activations φ(I·φ(x)) ≠ φ(x) and the network's output would change.
    """
    index, layer = _layer_at(model, index, "deepen")
    declared = traits.of(layer)
    if declared is None or declared.net2net != "idempotent":
        raise TypeError(f"deepen: position {index} must be a ReLU (or an activation declared "
                        "idempotent, net2net='idempotent'), because Net2DeeperNet "
                        "inserts an identity Linear followed by the same activation φ, which "
                        f"keeps the function only when φ(φ(x)) = φ(x). Received: "
                        f"{type(layer).__name__}")
    width, dtype = None, None
    for j in range(index - 1, -1, -1):
        if isinstance(model[j], Linear):
            width, dtype = model[j].out_features, model[j].weight.dtype
            break
    if width is None:
        raise ValueError(f"deepen: no Linear before position {index} to take the width from")
    identity = Linear(width, width, dtype=dtype)
    identity.weight._data[...] = np.eye(width, dtype=dtype)
    identity.bias._data[...] = 0
    model.insert(index + 1, identity)
    model.insert(index + 2, copy.deepcopy(layer))
    return model
