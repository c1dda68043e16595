"""Forward hooks on modules, as torch's: ``register_forward_pre_hook(hook)`` runs
``hook(module, args)`` before ``forward`` (a non-None result replaces the arguments),
``register_forward_hook(hook)`` runs ``hook(module, args, output)`` after it (a non-None result
replaces the output). Both return a handle whose ``remove()`` unregisters the hook."""

from __future__ import annotations

import itertools
from collections import OrderedDict

_ids = itertools.count()


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` takes the hook off again
    (also as a context manager: the hook is removed on exit)."""

    def __init__(self, registry: OrderedDict, owner=None, name: str = ""):
        self.registry, self.id = registry, next(_ids)
        self.owner, self.name = owner, name

    def remove(self) -> None:
        if self.owner is None:
            self.registry.pop(self.id, None)
        else:
            drop(self.owner, self.name, self.id)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def drop(module, name: str, key) -> None:
    """Take hook ``key`` out of the module's registry ``name``, and the registry off the module
    once it is empty, so that a module whose hooks are all gone is called as one that never
    had any (the fast paths look for the registries, not their entries)."""
    registry = module.__dict__.get(name)
    if registry is None:
        return
    registry.pop(key, None)
    if not registry:
        object.__delattr__(module, name)
        if name.startswith("_backward"):
            from ffnn.nn.backward_hooks import drop_gates_if_unused

            drop_gates_if_unused(module)


def register(module, name: str, hook, prepend: bool) -> RemovableHandle:
    """Add ``hook`` to the module's registry ``name`` (created on first use)."""
    if not callable(hook):
        raise TypeError(f"{name[1:-1].replace('_', ' ')}: hook must be callable. Received: "
                        f"{hook!r}")
    registry = module.__dict__.get(name)
    if registry is None:
        registry = OrderedDict()
        object.__setattr__(module, name, registry)
    handle = RemovableHandle(registry, module, name)
    registry[handle.id] = hook
    if prepend:
        registry.move_to_end(handle.id, last=False)
    return handle


def _in_order(module, name: str) -> list:
    """The hooks of registry ``name``, the backward hooks' gates last (as torch sets up a
    backward hook after the forward pre-hooks and after the forward hooks)."""
    hooks = list(module.__dict__.get(name, {}).values())
    if "_backward_gates" in module.__dict__:
        hooks.sort(key=lambda hook: type(getattr(hook, "__self__", None)).__name__ == "Gates")
    return hooks


def call_with_hooks(module, args: tuple, kwargs: dict):
    """``module.forward(*args, **kwargs)`` with its pre- and post-forward hooks around it."""
    for hook in _in_order(module, "_forward_pre_hooks"):
        result = hook(module, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    output = module.forward(*args, **kwargs)
    for hook in _in_order(module, "_forward_hooks"):
        result = hook(module, args, output)
        if result is not None:
            output = result
    return output
