"""Freezing: parameters that take no gradient and no optimizer step.

``freeze(model, *targets)`` sets ``requires_grad = False`` on the selected parameters (the ops
then skip their gradients and ``Optimizer.step`` skips them); a frozen ``BatchNorm1d`` also
stops using batch statistics and normalises with its running ones, even in ``train()`` mode,
as a frozen feature extractor should. Targets: a Module, an index into a ``Sequential`` (or a
slice), or a glob pattern on module or parameter names (``'0'``, ``'*.weight'``, ``'fc*'``).
"""

from __future__ import annotations

import fnmatch

from ffnn.nn.container import Sequential
from ffnn.nn.module import Module
from ffnn.nn.normalization import BatchNorm1d
from ffnn.nn.parameter import Parameter


def is_frozen_batchnorm(module: Module) -> bool:
    return isinstance(module, BatchNorm1d) and module.frozen


def set_batchnorm_frozen(module: BatchNorm1d, frozen: bool) -> None:
    """Make ``module`` use (frozen=True) or stop using its running statistics in training."""
    module.frozen = bool(frozen)


def select(model: Module, targets: tuple, owner: str) -> tuple[list[Parameter], list[Module]]:
    """The parameters and the whole modules that ``targets`` name (all of ``model`` if none).

    Raises TypeError for an unsupported target, IndexError/ValueError when nothing matches.
    """
    if not isinstance(model, Module):
        raise TypeError(f"{owner}: model must be an ffnn.nn.Module. Received: "
                        f"{type(model).__name__}")
    if not targets:
        return list(model.parameters()), [model]
    params: dict[int, Parameter] = {}
    modules: list[Module] = []
    for target in targets:
        found = _resolve(model, target, owner)
        for item in found:
            if isinstance(item, Parameter):
                params[id(item)] = item
            else:
                modules.append(item)
                params.update((id(p), p) for p in item.parameters())
    return list(params.values()), modules


def _resolve(model: Module, target, owner: str) -> list:
    if isinstance(target, Module):
        if not any(m is target for m in model.modules()):
            raise ValueError(f"{owner}: the given {type(target).__name__} is not part of model")
        return [target]
    if isinstance(target, (int, slice)) and not isinstance(target, bool):
        if not isinstance(model, Sequential):
            raise TypeError(f"{owner}: an index target needs a Sequential model. Received: "
                            f"{target!r} for a {type(model).__name__}")
        picked = model[target]
        return list(picked) if isinstance(target, slice) else [picked]
    if isinstance(target, str):
        found = [m for name, m in model.named_modules() if name and fnmatch.fnmatchcase(name,
                                                                                        target)]
        found += [p for name, p in model.named_parameters() if fnmatch.fnmatchcase(name, target)]
        if not found:
            names = [name for name, _ in model.named_modules() if name]
            raise ValueError(f"{owner}: pattern {target!r} matches no module or parameter "
                             f"(modules: {names})")
        return found
    raise TypeError(f"{owner}: targets must be Modules, indices, slices or name patterns. "
                    f"Received: {target!r} of type {type(target).__name__}")


def _set(model: Module, targets: tuple, frozen: bool, owner: str) -> Module:
    params, modules = select(model, targets, owner)
    for param in params:
        param.requires_grad_(not frozen)
    touched = {id(m) for top in modules for m in top.modules()}
    selected = {id(p) for p in params}
    for module in model.modules():
        if isinstance(module, BatchNorm1d):
            own = [id(p) for p in (module.weight, module.bias) if p is not None]
            if id(module) in touched or (own and all(i in selected for i in own)):
                set_batchnorm_frozen(module, frozen)
    return model


def freeze(model: Module, *targets) -> Module:
    """Freeze ``targets`` (all of ``model`` if none): no gradients, no updates, BatchNorm on
    running statistics. Returns ``model``."""
    return _set(model, targets, True, "freeze")


def unfreeze(model: Module, *targets) -> Module:
    """Undo :func:`freeze` for ``targets`` (all of ``model`` if none). Returns ``model``."""
    return _set(model, targets, False, "unfreeze")


def trainable_parameters(model: Module) -> list[Parameter]:
    """The parameters that still take gradients (pass these to an optimizer)."""
    return [p for p in model.parameters() if p.requires_grad]


def count_parameters(model: Module, trainable_only: bool = False) -> int:
    """Σ numel over ``model.parameters()`` (only ``requires_grad`` ones if asked)."""
    return sum(p._data.size for p in model.parameters() if p.requires_grad or not trainable_only)
