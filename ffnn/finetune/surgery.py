"""Layer surgery on ``Sequential`` models: a new head, inserting and removing layers, summary.

All functions change the model in place and return it; build the optimizer afterwards (it
holds references to the parameters it was given).
"""

from __future__ import annotations

from dataclasses import dataclass

from ffnn.finetune.freeze import count_parameters
from ffnn.finetune.lora import LoRALinear, set_child
from ffnn.nn.container import Sequential
from ffnn.nn.linear import Linear
from ffnn.nn.module import Module


def _check_sequential(model, owner: str) -> Sequential:
    if not isinstance(model, Sequential):
        raise TypeError(f"{owner} needs an ffnn.nn.Sequential model. Received: "
                        f"{type(model).__name__}")
    return model


def last_linear(model: Module, owner: str = "replace_head") -> tuple[Module, str, Module]:
    """``(parent, child_name, layer)`` of the last Linear (or LoRALinear) in ``model``."""
    found, wrappers = None, []
    for name, module in model.named_modules():
        if not name or any(name.startswith(w + ".") for w in wrappers):
            continue  # the model itself, or the base inside a LoRALinear
        if isinstance(module, LoRALinear):
            wrappers.append(name)
        if isinstance(module, (Linear, LoRALinear)):
            found = (name, module)
    if found is None:
        raise ValueError(f"{owner}: the model has no Linear layer")
    name, module = found
    parent_name, _, child = name.rpartition(".")
    return model.get_submodule(parent_name), child, module


def replace_head(model: Module, out_features: int, bias: bool | None = None,
                 generator=None) -> Module:
    """Replace the last Linear with a fresh ``Linear(in_features, out_features)`` (same dtype;
    ``bias`` defaults to the old layer's). Returns ``model``."""
    if isinstance(out_features, bool) or not isinstance(out_features, int) or out_features < 1:
        raise ValueError(f"replace_head: out_features must be a positive integer. Received: "
                         f"out_features={out_features!r}")
    parent, child, old = last_linear(model)
    base = old.base if isinstance(old, LoRALinear) else old
    bias = base.bias is not None if bias is None else bias
    set_child(parent, child, Linear(base.in_features, out_features, bias=bias,
                                    dtype=base.weight.dtype, generator=generator))
    return model


def insert_layer(model: Sequential, index: int, layer: Module) -> Sequential:
    """Insert ``layer`` at position ``index`` of a Sequential (children renumbered)."""
    _check_sequential(model, "insert_layer")
    if not isinstance(layer, Module):
        raise TypeError(f"insert_layer: layer must be an ffnn.nn.Module. Received: "
                        f"{type(layer).__name__}")
    if isinstance(index, bool) or not isinstance(index, int) or \
            not -len(model) - 1 <= index <= len(model):
        raise IndexError(f"insert_layer: index must be an integer in [{-len(model) - 1}, "
                         f"{len(model)}]. Received: index={index!r}")
    position = index if index >= 0 else len(model) + 1 + index
    return model.insert(position, layer)


def remove_layer(model: Sequential, index: int) -> Sequential:
    """Remove the layer at position ``index`` of a Sequential (children renumbered)."""
    _check_sequential(model, "remove_layer")
    if isinstance(index, bool) or not isinstance(index, int) or \
            not -len(model) <= index < len(model):
        raise IndexError(f"remove_layer: index must be an integer in [{-len(model)}, "
                         f"{len(model) - 1}]. Received: index={index!r}")
    del model[index]
    return model


@dataclass
class ModelSummary:
    """Rows of (name, type, parameters, trainable parameters) and the totals; ``str`` prints
    the table."""

    rows: list[tuple[str, str, int, int]]
    total_params: int
    trainable_params: int

    def __str__(self) -> str:
        width = max([len(r[0]) for r in self.rows] + [5])
        kinds = max([len(r[1]) for r in self.rows] + [4])
        lines = [f"{'Layer':<{width}}  {'Type':<{kinds}}  {'Params':>10}  {'Trainable':>10}"]
        lines.append("-" * len(lines[0]))
        lines += [f"{n:<{width}}  {k:<{kinds}}  {p:>10,}  {t:>10,}" for n, k, p, t in self.rows]
        lines.append("-" * len(lines[0]))
        lines.append(f"Total params: {self.total_params:,}")
        lines.append(f"Trainable params: {self.trainable_params:,}")
        lines.append(f"Non-trainable params: {self.total_params - self.trainable_params:,}")
        return "\n".join(lines)


def summary(model: Module) -> ModelSummary:
    """Per-layer parameter counts (a layer's own parameters) with trainable and total sums."""
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be an ffnn.nn.Module. Received: "
                        f"{type(model).__name__}")
    rows = []
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if name and (own or not module._modules):
            rows.append((name, type(module).__name__, sum(p._data.size for p in own),
                         sum(p._data.size for p in own if p.requires_grad)))
    return ModelSummary(rows, count_parameters(model), count_parameters(model, True))
