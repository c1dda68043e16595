"""What a captured step depends on, checked again before every call.

A capture holds the model's modules and parameters, so it is invalid once a layer or a
parameter is replaced, a hook is added or removed, a parameter's ``requires_grad`` or shape
changes, an attribute a layer or the loss reads as an option is set again (an activation's
slope, the loss's reduction, its class weights), or the optimizer (or its number of
parameter groups) changes.
:class:`Watch` lists the dictionaries holding those facts once per capture and compares them
at each call with C-level ``map`` calls that stop at the first difference: no Python loop over
modules.
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import attrgetter, is_

_HOOKS = ("_forward_hooks", "_forward_pre_hooks")
_shape = attrgetter("shape")


def hooked(module_tables: list[dict], param_tables: list[dict]) -> bool:
    """Whether any module (``vars`` of each, the loss included) has forward hooks or a
    ``forward`` set on the instance, or any parameter (``vars`` of each) gradient hooks, as
    ``Module.__call__`` and backward look for them: C-level ``map``s that stop at the first."""
    return (any(map(dict.__contains__, module_tables, repeat(_HOOKS[0])))
            or any(map(dict.__contains__, module_tables, repeat(_HOOKS[1])))
            or any(map(dict.__contains__, module_tables, repeat("forward")))
            or any(map(dict.__contains__, param_tables, repeat("_grad_hooks")))
            or any(map(dict.__contains__, param_tables, repeat("_post_accumulate_grad_hooks"))))


class Watch:
    """The facts of ``model`` (its modules and parameters), ``loss_fn`` and ``optimizer`` that
    a captured step depends on; :meth:`unchanged` says whether they still hold."""

    def __init__(self, model, loss_fn, optimizer, option_tables=()):
        modules = list(model.modules())
        self.registries = [r for m in modules for r in (m._modules, m._parameters)]
        self.registries += option_tables  # attributes read as options (ChainStep's)
        if isinstance(getattr(loss_fn, "_buffers", None), dict):  # a class weight set later
            self.registries.append(loss_fn._buffers)
        self.tables = [vars(m) for m in modules]
        if hasattr(loss_fn, "__dict__"):
            self.tables.append(vars(loss_fn))
        self.params = [vars(p) for m in modules for p in m._parameters.values() if p is not None]
        self.optimizer, self.groups = optimizer, len(optimizer.param_groups)
        self.lengths = list(map(len, self.registries))
        self.values = list(self._values())
        self._hook_tables = [*self.tables, *self.tables, *self.tables, *self.params]
        self._hook_names = [name for name in (*_HOOKS, "forward") for _ in self.tables] + \
            ["_grad_hooks"] * len(self.params)
        self.hooked = self._hooked()
        self.requires = self._requires()
        self.shapes = self._shapes()

    def _values(self):
        return chain.from_iterable(map(dict.values, self.registries))

    def _hooked(self) -> bool:
        """``hooked`` of the tables and parameters, in one ``map``."""
        return any(map(dict.__contains__, self._hook_tables, self._hook_names))

    def _requires(self) -> list:
        return list(map(dict.get, self.params, repeat("requires_grad")))

    def _shapes(self) -> list:
        return list(map(_shape, map(dict.get, self.params, repeat("_data"))))

    def unchanged(self, optimizer) -> bool:
        """Whether every fact read at capture still holds (``optimizer``: the one now in use)."""
        return (optimizer is self.optimizer and len(optimizer.param_groups) == self.groups
                and list(map(len, self.registries)) == self.lengths
                and all(map(is_, self._values(), self.values))
                and self._hooked() == self.hooked
                and self._requires() == self.requires
                and self._shapes() == self.shapes)
