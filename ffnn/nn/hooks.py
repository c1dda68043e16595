"""Forward hooks on modules, as torch's: ``register_forward_pre_hook(hook)`` runs
``hook(module, args)`` before ``forward`` (a non-None result replaces the arguments),
``register_forward_hook(hook)`` runs ``hook(module, args, output)`` after it (a non-None result
replaces the output). Both return a handle whose ``remove()`` unregisters the hook."""

from __future__ import annotations

import itertools
import warnings
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
    if not callable(hook.hook if type(hook) is WithOptions else hook):
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
        from ffnn.nn.backward_hooks import Gates

        hooks.sort(key=lambda hook: isinstance(getattr(hook, "__self__", None), Gates))
    return hooks


class WithOptions:
    """A forward hook registered with torch's options: ``with_kwargs`` (it also receives the
    keyword arguments: ``hook(module, args, kwargs[, output])``, a pre-hook returning
    ``(args, kwargs)``) and ``always_call`` (a forward hook called even when the forward
    raises, with output None)."""

    def __init__(self, hook, with_kwargs: bool, always_call: bool = False):
        self.hook, self.with_kwargs, self.always_call = hook, with_kwargs, always_call

    def __call__(self, *arguments):
        return self.hook(*arguments)


def _pre(module, hook, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    if type(hook) is WithOptions and hook.with_kwargs:
        result = hook(module, args, kwargs)
        if result is not None:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                   f"new_kwargs), but got {result}.")
            args, kwargs = result
        return args, kwargs
    result = hook(module, args)
    if result is not None:
        args = result if isinstance(result, tuple) else (result,)
    return args, kwargs


def _post(module, hook, args: tuple, kwargs: dict, output):
    kwargs_form = type(hook) is WithOptions and hook.with_kwargs
    result = hook(module, args, kwargs, output) if kwargs_form else hook(module, args, output)
    return output if result is None else result


def call_with_hooks(module, args: tuple, kwargs: dict):
    """``module.forward(*args, **kwargs)`` with its pre- and post-forward hooks around it."""
    for hook in _in_order(module, "_forward_pre_hooks"):
        args, kwargs = _pre(module, hook, args, kwargs)
    hooks = _in_order(module, "_forward_hooks")
    try:
        output = module.forward(*args, **kwargs)
    except Exception:
        for hook in hooks:
            if type(hook) is WithOptions and hook.always_call:
                try:
                    _post(module, hook, args, kwargs, None)
                except Exception as error:  # the forward's error is the one raised
                    warnings.warn("forward hook with ``always_call=True`` raised an exception "
                                  f"that was silenced as another error was raised in forward: "
                                  f"{error}", stacklevel=2)
        raise
    for hook in hooks:
        output = _post(module, hook, args, kwargs, output)
    return output
