"""``Module``: the registry of parameters, buffers and sub-modules that every layer builds on.

Assigning a :class:`Parameter`, a ``Module`` or a registered buffer to an attribute files it
in the matching registry, so ``named_parameters()`` and ``state_dict()`` find it under a
dotted name (``fc1.weight``, ``0.bias``, ``bn.running_mean``) exactly as PyTorch names it.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping

import numpy as np

from ffnn import dtypes
from ffnn.nn import forward_pipeline
from ffnn.nn import hooks as _hooks
from ffnn.nn.parameter import Parameter
from ffnn.return_types import IncompatibleKeys
from ffnn.tensor import Tensor


class Module:
    """Base class of layers and models: subclasses set attributes in ``__init__`` and define
    ``forward``; calling the module calls ``forward``."""

    training: bool
    _program_class = False
    """Whether the class is a program's (not ffnn's own): its ``forward`` may be a pipeline
    of calls (``forward_pipeline``)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._program_class = forward_pipeline.program_class(cls)

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration ---------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call: call super().__init__() "
                "first in your module's __init__"
            )
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            if name not in params:
                self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            if name not in modules:  # a replaced child keeps its position, as in torch
                self._forget(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(ffnn.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Tensor) and getattr(value, "_is_buffer", False):
            self.register_buffer(name, value, value.persistent)  # nn.Buffer(...), torch 2.5+
        elif name in buffers:
            buffers[name] = _as_buffer(value)
        elif name in modules and value is None:
            modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)

    def __getattr__(self, name: str):
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        if name in _HOOK_REGISTRIES:  # made at the first hook: none yet (torch's is empty)
            return OrderedDict()
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._forget(name)
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, array, persistent: bool = True) -> None:
        """Register a non-learnable tensor (running statistics …) saved in ``state_dict``."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"buffer name must be a non-empty string without '.'. Received: "
                           f"name={name!r}")
        if name not in self._buffers:  # a replaced buffer keeps its position, as in torch
            if name in self._parameters or name in self._modules or (
                    name in self.__dict__ and not name.startswith("_")):
                raise KeyError(f"attribute '{name}' already exists")
            self._forget(name)
        self._buffers[name] = _as_buffer(array)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if name not in self._modules:
            self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ----- forward --------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if "_forward_hooks" in self.__dict__ or "_forward_pre_hooks" in self.__dict__:
            return _hooks.call_with_hooks(self, args, kwargs)
        if type(self)._program_class and len(args) == 1 and not kwargs:  # read as calls
            steps = forward_pipeline.plan_of(type(self))
            if steps is not None:
                out = forward_pipeline.run(self, steps, args[0])
                if out is not forward_pipeline.NOT_RUN:
                    return out
        return self.forward(*args, **kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False):
        """Call ``hook(module, args, output)`` (``with_kwargs``: ``hook(module, args, kwargs,
        output)``) after each forward (``always_call``: also when it raises); a non-None
        result replaces the output. Returns a handle with ``remove()``."""
        if with_kwargs or always_call:
            hook = _hooks.WithOptions(hook, with_kwargs, always_call)
        return _hooks.register(self, "_forward_hooks", hook, prepend)

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False):
        """Call ``hook(module, args)`` before each forward; a non-None result (a tuple or one
        value) replaces the positional arguments (``with_kwargs``: ``hook(module, args,
        kwargs)`` returning ``(args, kwargs)``). Returns a handle with ``remove()``."""
        if with_kwargs:
            hook = _hooks.WithOptions(hook, with_kwargs)
        return _hooks.register(self, "_forward_pre_hooks", hook, prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_input, grad_output)`` once the gradients of the forward's
        positional inputs are computed; a non-None result replaces ``grad_input``
        (``ffnn.nn.backward_hooks``). Returns a handle with ``remove()``."""
        from ffnn.nn import backward_hooks

        return backward_hooks.register(self, "_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False):
        """Call ``hook(module, grad_output)`` once the gradients of the forward's outputs are
        known; a non-None result replaces them. Returns a handle with ``remove()``."""
        from ffnn.nn import backward_hooks

        return backward_hooks.register(self, "_backward_pre_hooks", hook, prepend)

    def register_backward_hook(self, hook):
        """torch's deprecated form: called here as ``register_full_backward_hook`` calls it
        (``grad_input``: the gradients of the module's inputs), with a warning."""
        import warnings

        warnings.warn("register_backward_hook is deprecated (torch); ffnn calls the hook as "
                      "register_full_backward_hook does: grad_input holds the gradients of "
                      "the module's inputs", FutureWarning, stacklevel=2)
        return self.register_full_backward_hook(hook)

    # ----- traversal ------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator:
        """(dotted name, module) of this module and every sub-module, depth first; a module
        registered under several names comes once, unless ``remove_duplicate=False``."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator:
        """(name, module) of each direct child, a module registered twice once (torch's)."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator:
        """(dotted name, parameter) of every parameter, each once unless
        ``remove_duplicate=False`` (then under every name it is registered at)."""
        seen = set()
        for key, _, _, param, is_parameter in tensor_slots(
                self, prefix, recurse=recurse, remove_duplicate=remove_duplicate):
            if is_parameter and (not remove_duplicate or id(param) not in seen):
                seen.add(id(param))
                yield key, param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator:
        seen = set()
        for key, _, _, buffer, is_parameter in tensor_slots(
                self, prefix, recurse=recurse, remove_duplicate=remove_duplicate):
            if not is_parameter and (not remove_duplicate or id(buffer) not in seen):
                seen.add(id(buffer))
                yield key, buffer

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> Module:
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r}")
            module = module._modules[part]
        return module

    def get_parameter(self, target: str) -> Tensor:
        """The parameter at the dotted path ``target`` (``"encoder.0.weight"``)."""
        return self._registered(target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``)."""
        return self._registered(target, "_buffers", "buffer")

    def _registered(self, target: str, registry: str, kind: str) -> Tensor:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in getattr(module, registry):
            raise AttributeError(f"{type(module).__name__} has no {kind} `{name}`"
                                 if not hasattr(module, name) else f"`{name}` is not a {kind}")
        return getattr(module, registry)[name]

    # ----- state ----------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Ordered mapping of dotted name → a tensor sharing the memory of every parameter and
        persistent buffer, detached (PyTorch's names and layouts; clone to snapshot them);
        ``keep_vars``: the parameters and buffers themselves; ``destination``: a mapping
        filled and returned. torch's older positional form ``(destination, prefix,
        keep_vars)`` is taken, with torch's warning."""
        if args:
            warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                          "https://pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.state_dict for details.", FutureWarning,
                          stacklevel=2)
            destination = args[0] if destination is None else destination
            prefix = args[1] if len(args) > 1 and prefix == "" else prefix
            keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
        out = OrderedDict() if destination is None else destination
        for key, _, _, tensor, _ in tensor_slots(self, persistent_only=True,
                                                 remove_duplicate=False):
            out[prefix + key] = tensor if keep_vars else tensor.detach()
        return out

    def load_state_dict(self, state_dict: Mapping, strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy arrays (NumPy, ffnn or torch tensors, lists) into the parameters and buffers.

        Values are copied in place into the existing arrays, so optimizers holding the
        parameters keep working. With ``strict``, every missing, unexpected or wrong-shaped
        key is listed in one ``RuntimeError``; shape mismatches are errors either way.
        ``assign``: the values become the parameters and buffers instead (their memory and
        dtype; a parameter keeps its ``requires_grad``), as torch's.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}. "
                            f"Received: state_dict of type {type(state_dict).__name__}")
        given = {k: _as_array(v) for k, v in state_dict.items()}
        for prefix, module in list(self.named_modules()):  # lazy ones take the shapes given
            materialize = getattr(module, "_materialize_from", None)
            if materialize is not None:
                materialize(given, f"{prefix}." if prefix else "")
        own = self._state_slots()
        missing = [k for k in own if k not in given]
        unexpected = [k for k in given if k not in own]
        wrong = [
            f"{k}: expected shape {own[k][2].shape}, got {given[k].shape}"
            for k in own
            if k in given and given[k].shape != own[k][2].shape
        ]
        problems = []
        if wrong:
            problems.append("wrong shape for " + "; ".join(wrong))
        if strict and missing:
            problems.append("missing keys " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected keys " + ", ".join(repr(k) for k in unexpected))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}: " + ". ".join(problems)
            )
        for key, (module, name, target) in own.items():
            if key in given:
                _load_slot(module, name, target, given[key], state_dict[key] if assign else None)
        return IncompatibleKeys(missing, unexpected)

    def _state_slots(self) -> OrderedDict:
        return OrderedDict((key, (module, name, tensor._data)) for key, module, name, tensor, _
                           in tensor_slots(self, persistent_only=True, remove_duplicate=False))

    # ----- modes and dtypes -----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"training mode is expected to be boolean. Received: mode={mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            if set_to_none:
                param._grad = None
            elif param._grad is not None:
                param.__dict__.pop("_grad_graph", None)  # backward(create_graph=True)'s graph
                param._grad[...] = 0

    def to(self, *args, **kwargs) -> Module:
        """Cast floating parameters and buffers to a dtype: ``to(torch.float64)``; a device
        (``'cpu'``, ``ffnn.device('cpu')``) is accepted, a GPU raises (see ``ffnn.device``)."""
        from ffnn.device import check_device, is_device

        dtype = kwargs.get("dtype")
        check_device(kwargs.get("device"))
        for arg in args:
            if is_device(arg):
                check_device(arg)
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            else:
                dtype = arg
        if dtype is None:
            return self
        dtype = dtypes.to_dtype(dtype)
        for _, module, name, tensor, is_parameter in list(tensor_slots(self)):
            if tensor._data.dtype.kind != "f":
                continue
            if not is_parameter:
                module._buffers[name] = _as_buffer(tensor._data.astype(dtype))
                continue
            tensor._data = tensor._data.astype(dtype)
            if tensor._grad is not None:
                tensor._grad = tensor._grad.astype(dtype)
        return self

    def to_empty(self, *, device, recurse: bool = True) -> Module:
        """torch's move of the parameters and buffers to ``device`` without their values (a
        model built on ``'meta'``, then loaded); here the device is the CPU (``ffnn.device``)
        and the values stay, for ``load_state_dict`` to replace."""
        from ffnn.device import check_device

        check_device(device)
        return self

    def double(self) -> Module:
        return self.to(dtypes.float64)

    def type(self, dst_type) -> Module:  # noqa: A003 - torch's name
        """Cast every parameter and buffer to ``dst_type`` (a dtype)."""
        return self.to(dst_type)

    def share_memory(self) -> Module:
        """This module (one process's memory: nothing to move)."""
        return self

    def float(self) -> Module:
        return self.to(dtypes.float32)

    def half(self) -> Module:
        return self.to(dtypes.float16)

    def bfloat16(self) -> Module:
        """Refused with the reason (``dtypes.UnheldDtype``): no NumPy dtype is bfloat16."""
        return self.to(dtypes.bfloat16)

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        """Raises: ffnn runs on the CPU (torch's error when built without CUDA)."""
        from ffnn.device import check_device

        check_device("cuda" if device is None else device, "cuda")
        return self

    def apply(self, fn) -> Module:
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----- printing -------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """torch's layout: the extra_repr lines, then each child indented under its name."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                       for name, child in self._modules.items()]
        lines = extra_lines + child_lines
        text = f"{type(self).__name__}("
        if len(extra_lines) == 1 and not child_lines:
            text += extra_lines[0]
        elif lines:
            text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)


_HOOK_REGISTRIES = frozenset(("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                              "_backward_pre_hooks"))
"""The hook registries a module holds once a hook of the kind is registered."""


def tensor_slots(module: Module, prefix: str = "", *, recurse: bool = True,
                 persistent_only: bool = False, remove_duplicate: bool = True,
                 ) -> Iterator[tuple[str, Module, str, Tensor, bool]]:
    """Every parameter and buffer of ``module`` and its sub-modules (each sub-module once, or
    under each of its names without ``remove_duplicate``: ``state_dict``'s keys, as torch's),
    in ``state_dict`` order: per module its parameters, then its buffers.

    Yields ``(dotted name, owning module, name in the owner, tensor, is_parameter)``; unset
    (None) entries are skipped, and with ``persistent_only`` the non-persistent buffers too.
    A parameter shared by two modules comes once per owner (``named_parameters`` keeps the
    first)."""
    modules = module.named_modules(None, prefix, remove_duplicate) if recurse else \
        [(prefix, module)]
    for module_name, owner in modules:
        dot = f"{module_name}." if module_name else ""
        for name, param in owner._parameters.items():
            if param is not None:
                yield dot + name, owner, name, param, True
        for name, buffer in owner._buffers.items():
            skipped = persistent_only and name in owner._non_persistent_buffers_set
            if buffer is not None and not skipped:
                yield dot + name, owner, name, buffer, False


def _load_slot(module: Module, name: str, target: np.ndarray, value: np.ndarray,
               assigned=None) -> None:
    """Write ``value`` into the parameter or buffer ``name`` of ``module`` (its array
    ``target``): in place, in its dtype; or, given the ``assigned`` value itself
    (``load_state_dict(assign=True)``), make that the parameter (a ``Parameter`` as given,
    or one sharing the value's memory, with the old one's ``requires_grad``) or buffer."""
    if assigned is not None:
        if name in module._parameters:
            old = module._parameters[name]
            new = assigned if isinstance(assigned, Parameter) else Parameter(value)
            setattr(module, name, new.requires_grad_(old.requires_grad))
        else:
            module._buffers[name] = assigned if isinstance(assigned, Tensor) else \
                Tensor._make(value, False, None)
    elif name in module._parameters or target.dtype.kind == "f":
        target[...] = value.astype(target.dtype, copy=False)
    else:
        module._buffers[name] = _as_buffer(np.array(value, dtype=target.dtype))


def _as_buffer(value) -> Tensor | None:
    """A buffer is a tensor outside the graph (torch's); arrays and lists are wrapped."""
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor._make(_as_array(value), False, None)


def _as_array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if type(value).__module__.startswith("torch"):
        return value.detach().cpu().numpy()
    return np.asarray(value)
