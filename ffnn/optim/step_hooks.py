"""Hooks around an optimizer's ``step``, as torch's.

``optimizer.register_step_pre_hook(hook)`` runs ``hook(optimizer, args, kwargs)`` before each
``step`` (``args`` starting with the optimizer itself, as torch passes them; a non-None
result is the new ``(args, kwargs)``), ``register_step_post_hook(hook)`` runs
``hook(optimizer, args, kwargs)`` after it; ``register_optimizer_step_pre_hook`` and
``register_optimizer_step_post_hook`` do so for every optimizer (the global pre-hooks run
first, the global post-hooks last). Each returns a handle whose ``remove()`` takes the hook
off. Every ``step`` an optimizer class defines runs them once (``hooked_step``; a subclass's
``step`` calling its parent's runs them once, not twice). A step run by the compiled
training step (``ffnn.compile``) runs them too: it leaves the update to ``step()`` while an
optimizer has hooks (``any_hooks``).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable

from ffnn.nn.hooks import RemovableHandle

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()
PRE, POST = "_optimizer_step_pre_hooks", "_optimizer_step_post_hooks"
"""The attributes holding an optimizer's own hooks (made at its first hook)."""


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` before every optimizer's ``step``."""
    return _add(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Run ``hook(optimizer, args, kwargs)`` after every optimizer's ``step``."""
    return _add(_global_post_hooks, hook)


def register(optimizer, name: str, hook: Callable) -> RemovableHandle:
    """Add ``hook`` to the optimizer's own registry ``name`` (``PRE`` or ``POST``)."""
    registry = optimizer.__dict__.get(name)
    if registry is None:
        registry = optimizer.__dict__[name] = OrderedDict()
    return _add(registry, hook)


def _add(registry: OrderedDict, hook: Callable) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"hook must be callable. Received: {type(hook).__name__}")
    handle = RemovableHandle(registry)
    registry[handle.id] = hook
    return handle


def any_hooks(optimizer) -> bool:
    """Whether a step of ``optimizer`` runs hooks (its own or the global ones)."""
    own = optimizer.__dict__
    return bool(_global_pre_hooks or _global_post_hooks or own.get(PRE) or own.get(POST))


def hooked_step(step: Callable) -> Callable:
    """``step`` running the hooks around it (see the module); without hooks, ``step``
    itself."""
    if getattr(step, "_runs_hooks", False):
        return step

    @functools.wraps(step)
    def run(self, *args, **kwargs):
        if not any_hooks(self) or self.__dict__.get("_in_hooked_step"):
            return step(self, *args, **kwargs)
        args = (self, *args)
        for hook in (*_global_pre_hooks.values(), *self.__dict__.get(PRE, {}).values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step.__qualname__}: a step pre-hook must return None "
                                       f"or a tuple (new_args, new_kwargs). Received: {result!r}")
                args, kwargs = result
        self.__dict__["_in_hooked_step"] = True
        try:
            out = step(*args, **kwargs)
        finally:
            self.__dict__.pop("_in_hooked_step", None)
        for hook in (*self.__dict__.get(POST, {}).values(), *_global_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    run._runs_hooks = True
    return run
