"""``torch.func.functional_call``: call a module with some of its parameters and buffers
replaced by given tensors for that call only, so that a loss is a function of those tensors
(their gradients, per-sample gradients under ``vmap``, MAML's adapted weights)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from ffnn.nn.module import Module
from ffnn.tensor import Tensor


def _owner(module: Module, name: str) -> tuple[Module, str]:
    """(the sub-module holding the dotted ``name``, its last part)."""
    *path, leaf = name.split(".")
    for part in path:
        child = module._modules.get(part)
        if child is None:
            raise AttributeError(f"{type(module).__name__} has no submodule {part!r} "
                                 f"(in {name!r})")
        module = child
    return module, leaf


def _registry(module: Module, name: str) -> dict:
    for registry in (module._parameters, module._buffers):
        if name in registry:
            return registry
    raise AttributeError(f"{type(module).__name__} has no parameter or buffer {name!r}")


def _tied(module: Module, given: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """``given`` and every other name of the same parameter or buffer object (torch's
    ``tie_weights``: a shared weight replaced under one name is replaced under all)."""
    names: dict[int, list[str]] = {}
    objects: dict[str, int] = {}
    for name, tensor in _entries(module):
        names.setdefault(id(tensor), []).append(name)
        objects[name] = id(tensor)
    out = dict(given)
    for name, tensor in given.items():
        for other in names.get(objects.get(name, -1), []):
            out.setdefault(other, tensor)
    return out


def _entries(module: Module, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
    """(dotted name, tensor) of every parameter and buffer, a shared module or tensor under
    each of its names."""
    for registry in (module._parameters, module._buffers):
        for leaf, tensor in registry.items():
            if tensor is not None:
                yield prefix + leaf, tensor
    for name, child in module._modules.items():
        if child is not None:
            yield from _entries(child, f"{prefix}{name}.")


def _names(module: Module) -> list[str]:
    return [name for name, _ in _entries(module)]


def _check_strict(module: Module, given: Mapping) -> None:
    """torch's error for ``strict=True`` when the names given are not exactly the module's."""
    names = _names(module)
    missing = [n for n in names if n not in given]
    unexpected = [n for n in given if n not in names]
    if missing or unexpected:
        lines = [f"\t{what} key(s): {', '.join(repr(k) for k in keys)}."
                 for what, keys in (("Missing", missing), ("Unexpected", unexpected)) if keys]
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n"
                           + "\n".join(lines))


@contextlib.contextmanager
def _swapped(module: Module, tensors: Mapping[str, Tensor]) -> Iterator[None]:
    saved = []
    try:
        for name, tensor in tensors.items():
            owner, leaf = _owner(module, name)
            registry = _registry(owner, leaf)
            saved.append((registry, leaf, registry[leaf]))
            registry[leaf] = tensor
        yield
    finally:
        for registry, leaf, original in reversed(saved):
            registry[leaf] = original


def functional_call(module: Module, parameter_and_buffer_dicts, args: Any = None,
                    kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the named parameters and buffers in
    ``parameter_and_buffer_dicts`` (a dict, or a sequence of dicts) in place of the
    module's own, restored after the call."""
    dicts = [parameter_and_buffer_dicts] if isinstance(parameter_and_buffer_dicts, Mapping) \
        else list(parameter_and_buffer_dicts)
    given: dict[str, Tensor] = {}
    for one in dicts:
        twice = set(given) & set(one)
        if twice:
            raise ValueError(f"{sorted(twice)} appeared in multiple dictionaries; behavior "
                             "of functional call is ambiguous")
        given.update(one)
    if strict:
        _check_strict(module, given)
    if tie_weights:
        given = _tied(module, given)
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _swapped(module, given):
        return module(*args, **(kwargs or {}))
