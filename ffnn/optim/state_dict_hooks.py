"""Hooks around an optimizer's ``state_dict`` and ``load_state_dict``, as torch's.

* ``register_state_dict_pre_hook(hook)``: ``hook(optimizer)`` before ``state_dict()``;
* ``register_state_dict_post_hook(hook)``: ``hook(optimizer, state_dict)`` after it, a
  non-None result being the state dict returned;
* ``register_load_state_dict_pre_hook(hook)``: ``hook(optimizer, state_dict)`` before
  ``load_state_dict``, a non-None result being the state dict loaded;
* ``register_load_state_dict_post_hook(hook)``: ``hook(optimizer)`` after it.

Each takes ``prepend=True`` to run first, and returns a handle whose ``remove()`` takes the
hook off. As in torch, ``Optimizer``'s own ``state_dict`` and ``load_state_dict`` run them
(a subclass's method, around its parent's call, runs outside them); ffnn's optimizers with
methods of their own run them there, once.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable

from ffnn.nn.hooks import RemovableHandle

STATE_PRE, STATE_POST = "_state_dict_pre_hooks", "_state_dict_post_hooks"
LOAD_PRE, LOAD_POST = "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks"
"""The attributes holding an optimizer's hooks (made at its first hook of the kind)."""


def register(optimizer, name: str, hook: Callable, prepend: bool = False) -> RemovableHandle:
    """Add ``hook`` to the optimizer's registry ``name`` (first with ``prepend``)."""
    if not callable(hook):
        raise TypeError(f"hook must be callable. Received: {type(hook).__name__}")
    registry = optimizer.__dict__.setdefault(name, OrderedDict())
    handle = RemovableHandle(registry)
    registry[handle.id] = hook
    if prepend:
        registry.move_to_end(handle.id, last=False)
    return handle


def _hooks(optimizer, name: str) -> tuple:
    return tuple(optimizer.__dict__.get(name, {}).values())


def _once(method: Callable, run: Callable) -> Callable:
    """``method`` wrapped by ``run(self, method, *args, **kwargs)``, except within a call
    the wrapper already runs (a subclass's method calling its parent's)."""
    if getattr(method, "_runs_hooks", False):
        return method
    flag = f"_in_{method.__name__}_hooks"

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get(flag):
            return method(self, *args, **kwargs)
        self.__dict__[flag] = True
        try:
            return run(self, method, *args, **kwargs)
        finally:
            self.__dict__.pop(flag, None)

    wrapper._runs_hooks = True
    return wrapper


def _state_dict(self, method, *args, **kwargs):
    for hook in _hooks(self, STATE_PRE):
        hook(self)
    state = method(self, *args, **kwargs)
    for hook in _hooks(self, STATE_POST):
        result = hook(self, state)
        state = state if result is None else result
    return state


def _load_state_dict(self, method, state_dict, *args, **kwargs):
    for hook in _hooks(self, LOAD_PRE):
        result = hook(self, state_dict)
        state_dict = state_dict if result is None else result
    out = method(self, state_dict, *args, **kwargs)
    for hook in _hooks(self, LOAD_POST):
        hook(self)
    return out


def hooked_state_dict(method: Callable) -> Callable:
    """``state_dict`` running the state-dict hooks around it."""
    return _once(method, _state_dict)


def hooked_load_state_dict(method: Callable) -> Callable:
    """``load_state_dict`` running the load hooks around it."""
    return _once(method, _load_state_dict)
