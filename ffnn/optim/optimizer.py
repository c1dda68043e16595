"""``Optimizer``: PyTorch's optimizer base, holding ``param_groups`` and per-parameter ``state``.

A subclass creates a parameter's state (:meth:`_init_state`) and calls a pure update function
on arrays (:meth:`_update`); the base class walks the groups, skips parameters without a
gradient, and (de)serialises everything in ``torch.optim``'s ``state_dict`` layout.
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import is_
from typing import Any

import numpy as np

from ffnn import accel
from ffnn.autograd import enable_grad
from ffnn.backend import xp
from ffnn.nn.hooks import RemovableHandle
from ffnn.optim import state_dict_hooks, step_hooks
from ffnn.optim.step_hooks import (  # noqa: F401 - torch.optim.optimizer's names
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)
from ffnn.tensor import Tensor

NO_FLAGS: dict = {}
"""The flags of an update kernel that has none (``fused_update``; read-only)."""


class _RequiredParameter:
    """A default that every parameter group must give (``torch.optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def check_number(name: str, value: Any, label: str, low: float = 0.0, high: float | None = None):
    """Raise unless ``value`` is a finite real number with ``low <= value`` (and
    ``value < high``).

    Messages follow torch (``Invalid learning rate: -1.0``, ``Invalid learning rate: inf``)
    and add the expected range.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number. Received: {name}={value!r} ({type(value).__name__})"
        )
    inside = low <= value and (high is None or value < high)
    if not inside or not math.isfinite(value):
        expected = f"finite {name} >= {low:g}" if high is None else \
            f"{low:g} <= {name} < {high:g}"
        raise ValueError(f"Invalid {label}: {value} (expected {expected})")


def check_learning_rate(value: Any) -> None:
    """``check_number`` for ``lr``, which torch also takes as a one-element tensor (a
    scheduler then fills it in place; ``learning_rate`` reads it)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        value = value.item()
    check_number("lr", value, "learning rate")


def learning_rate(group: dict[str, Any]) -> float:
    """``group["lr"]`` as a number (a tensor lr's value now): what an update multiplies by."""
    lr = group["lr"]
    return lr.item() if isinstance(lr, Tensor) else lr


def check_tensor_lr_foreach(lr: Any, foreach: bool | None, capturable: bool) -> None:
    """torch's Adam and AdamW refuse a tensor lr with ``foreach=True`` unless capturable."""
    if isinstance(lr, Tensor) and foreach and not capturable:
        raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")


def check_implementation(optimizer: str, differentiable: bool = False) -> None:
    """torch's implementation choices (``foreach``, ``fused``, ``capturable``) pick how
    torch computes the same update: ffnn takes them and computes its own. A
    ``differentiable`` step (a graph through the update, for learning to optimize) it does
    not have: refused rather than run without that graph."""
    if differentiable:
        raise NotImplementedError(
            f"{optimizer}: differentiable=True (a step recorded for autograd) is not "
            "supported: ffnn updates parameters in place, outside the graph")


def _plain(value: Any) -> Any:
    """NumPy scalars and 0-d arrays -> Python numbers; tuples/lists element-wise."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value.item()
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(item) for item in value)
    return value


def reset_gradients(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """``p.grad = None`` for each parameter, or (``set_to_none=False``) its gradient zeroed."""
    for param in params:
        if param._grad is None:
            continue
        if set_to_none:
            param._grad = None
        else:
            param.__dict__.pop("_grad_graph", None)  # backward(create_graph=True)'s graph
            param._grad[...] = 0


def owns_fused_update(optimizer) -> bool:
    """Whether ``optimizer``'s update is its class's ``fused_update``: the class that defines
    it also defines ``_update``, its ``_init_state`` is that class's or a base's, and
    ``step`` is the base's (a subclass that changes the update or the state without it runs
    its own ``step()``). Cached per class."""
    kind = type(optimizer)
    found = _OWNS_FUSED_UPDATE.get(kind)
    if found is None:
        def owner(name: str) -> type:
            return next(c for c in kind.__mro__ if name in vars(c))

        defining = owner("fused_update")
        found = _OWNS_FUSED_UPDATE[kind] = defining is not Optimizer and \
            defining is owner("_update") and owner("_init_state") in defining.__mro__ and \
            owner("step") is Optimizer
    return found


_OWNS_FUSED_UPDATE: dict[type, bool] = {}
_loaded: list = []


def _multi_tensor():
    """``ffnn.optim.multi_tensor`` (imports numba), loaded at the first compiled step."""
    if not _loaded:
        from ffnn.optim import multi_tensor

        _loaded.append(multi_tensor)
    return _loaded[0]


def _take_names(group: dict[str, Any]) -> None:
    """A group given as ``model.named_parameters()``: its tensors in ``params`` and their
    names in ``param_names`` (torch ≥ 2.6's); ValueError where only some are named."""
    named = [isinstance(p, tuple) for p in group["params"]]
    if not any(named):
        return
    if not all(named):
        raise ValueError("all optimizer params should be with/without names. Some param names "
                         "are missing")
    group["param_names"] = [name for name, _ in group["params"]]
    group["params"] = [param for _, param in group["params"]]


TORCH_KEY_ORDER = {name: tuple(keys.split()) for name, keys in {
    "SGD": "lr momentum dampening weight_decay nesterov maximize foreach differentiable fused",
    "Adam": "lr betas eps weight_decay amsgrad maximize foreach capturable differentiable fused "
            "decoupled_weight_decay",
    "RMSprop": "lr momentum alpha eps centered weight_decay capturable foreach maximize "
               "differentiable",
    "Adagrad": "lr lr_decay eps weight_decay initial_accumulator_value foreach maximize "
               "differentiable fused",
    "Adadelta": "lr rho eps weight_decay maximize capturable foreach differentiable",
    "Adamax": "lr betas eps weight_decay foreach maximize differentiable capturable",
    "NAdam": "lr betas eps weight_decay momentum_decay decoupled_weight_decay maximize foreach "
             "capturable differentiable",
    "RAdam": "lr betas eps weight_decay maximize foreach capturable decoupled_weight_decay "
             "differentiable",
    "Rprop": "lr etas step_sizes foreach maximize differentiable capturable",
    "ASGD": "lr lambd alpha t0 weight_decay foreach maximize differentiable capturable",
}.items()}
"""torch's order of each built-in optimizer's defaults (a group's keys print and iterate in
it); AdamW's is Adam's."""
TORCH_KEY_ORDER["AdamW"] = TORCH_KEY_ORDER["Adam"]


def in_torch_order(name: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` with the keys ``TORCH_KEY_ORDER`` lists for optimizer ``name`` first, in
    that order, then any others."""
    order = TORCH_KEY_ORDER.get(name, ())
    ordered = {key: defaults[key] for key in order if key in defaults}
    return {**ordered, **defaults}


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors or of dicts (parameter groups, each with a
    ``"params"`` entry and optional per-group options overriding ``defaults``).
    ``param_groups`` is the list of group dicts (schedulers read and write ``group["lr"]``);
    ``state`` maps a parameter to its dict of arrays and numbers.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        if isinstance(params, Tensor) or isinstance(params, dict):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts. Received: params of type {type(params).__name__}"
            )
        self._check_group(defaults)
        self.defaults = in_torch_order(type(self).__name__, defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._scratch: dict[tuple, list] = {}
        self._plans: dict[int, Any] = {}  # multi_tensor.GroupPlan by id(group)
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ----- what a subclass provides -------------------------------------------------------
    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate a group's options (or the defaults); raise ValueError naming the option."""

    def _init_state(self, param: np.ndarray, group: dict[str, Any]) -> dict[str, Any]:
        """The fresh state of one parameter (zeros arrays shaped like it, a step counter)."""
        return {}

    def fused_update(self, state: dict[str, Any], group: dict[str, Any], step: int):
        """This parameter's update at step ``step`` (counted from 1) as one generated kernel,
        for callers that run it themselves (``ffnn.compiler.fused``, inside its compiled
        step, and ``ffnn.optim.multi_tensor``, which then call ``_fused_step_taken``):
        (kernel, its flags, the state arrays after param and grad in the kernel's array
        order (None: an absent optional one), its scalars by name). None (the default): no
        such kernel, ``step()`` must run."""
        return None

    def _fused_step_taken(self, state: dict[str, Any], group: dict[str, Any]) -> None:
        """After ``fused_update``'s kernel ran on a parameter (the multi-tensor or the fused
        step): its state's step count + 1, and whatever else the update advances."""
        state["step"] += 1

    def _shared_scalars(self, step: int, options: tuple, make: Callable[[], dict]) -> dict:
        """``make()``, the kernel scalars of a group's ``options`` (values read from the group)
        at ``step``, made again only when the step or one of those values is not the one of
        the last call: a group's parameters share them (read-only)."""
        last = self.__dict__.get("_last_scalars")
        if last is not None and last[0] == step and len(last[1]) == len(options) and \
                all(map(is_, last[1], options)):
            return last[2]
        scalars = make()
        self._last_scalars = (step, options, scalars)
        return scalars

    def _update(self, param, grad, state: dict[str, Any], group: dict[str, Any], scratch) -> None:
        """Update ``param`` (an array) in place from ``grad``; ``scratch``: 2 spare arrays."""
        raise NotImplementedError

    # ----- groups ---------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a parameter group; options it omits are taken from ``defaults``.

        Raises TypeError for non-tensors, ValueError for a parameter already in a group.
        """
        if not isinstance(param_group, dict):
            raise TypeError(
                f"param_group must be a dict. Received: {type(param_group).__name__}"
            )
        group = dict(param_group)
        if "params" not in group:
            raise ValueError("param_group must have a 'params' entry (the tensors to optimize)")
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        group["params"] = list(params)
        _take_names(group)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            group.setdefault(name, default)
        self._check_group(group)
        ids = [id(p) for p in group["params"]]
        if len(ids) != len(set(ids)):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ----- the training loop ----------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: ``p.grad = None`` (default) or fill the gradient arrays with 0."""
        for group in self.param_groups:
            reset_gradients(group["params"], set_to_none)

    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``step`` runs the step hooks too (``step_hooks.hooked_step``);
        the state-dict hooks run in this class's ``state_dict`` and ``load_state_dict``, as
        torch's."""
        super().__init_subclass__(**kwargs)
        if "step" in vars(cls):
            cls.step = step_hooks.hooked_step(vars(cls)["step"])

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` before each ``step`` (a non-None result is
        the new ``(args, kwargs)``); ``handle.remove()`` takes it off."""
        return step_hooks.register(self, step_hooks.PRE, hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return step_hooks.register(self, step_hooks.POST, hook)

    def register_state_dict_pre_hook(self, hook: Callable,
                                     prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer)`` before each ``state_dict()``."""
        return state_dict_hooks.register(self, state_dict_hooks.STATE_PRE, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable,
                                      prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` after each ``state_dict()`` (a non-None result
        is the state dict returned)."""
        return state_dict_hooks.register(self, state_dict_hooks.STATE_POST, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable,
                                          prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer, state_dict)`` before each ``load_state_dict`` (a non-None
        result is the state dict loaded)."""
        return state_dict_hooks.register(self, state_dict_hooks.LOAD_PRE, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable,
                                           prepend: bool = False) -> RemovableHandle:
        """Run ``hook(optimizer)`` after each ``load_state_dict``."""
        return state_dict_hooks.register(self, state_dict_hooks.LOAD_POST, hook, prepend)

    @step_hooks.hooked_step
    def step(self, closure: Callable[[], Any] | None = None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given.

        Parameters with ``requires_grad=False`` or ``grad is None`` are left untouched.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        together = accel.enabled and owns_fused_update(self)
        for group in self.param_groups:
            if together and _multi_tensor().step_group(self, group, self._plans):
                continue
            for param in group["params"]:
                grad = param._grad
                if grad is None or not param.requires_grad:
                    continue
                data = param._data
                if grad.shape != data.shape:
                    raise RuntimeError(
                        f"gradient shape {tuple(grad.shape)} does not match parameter shape "
                        f"{tuple(data.shape)}"
                    )
                state = self.state[param]
                if not state:
                    state.update(self._init_state(data, group))
                self._update(data, grad, state, group, self._scratch_for(data))
        return loss

    def __getstate__(self) -> dict[str, Any]:
        """Everything but the multi-tensor plans (caches of addresses, rebuilt at the next
        step), so that an optimizer pickles and deep-copies as torch's does."""
        state = dict(self.__dict__)
        state["_plans"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_plans", {})  # pickled before the plans existed

    def _scratch_for(self, data) -> list:
        """Two arrays shaped like ``data``, allocated once per (shape, dtype) and reused."""
        key = (data.shape, data.dtype, type(data))
        buffers = self._scratch.get(key)
        if buffers is None:
            module = xp(data)
            buffers = [module.empty_like(data), module.empty_like(data)]
            self._scratch[key] = buffers
        return buffers

    # ----- serialisation ---------------------------------------------------------------------
    @state_dict_hooks.hooked_state_dict
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {i: {name: array | number}}, "param_groups": [{..., "params": [i]}]}``.

        Parameters are numbered in group order, as in torch. Arrays are copies, so the dict
        is a snapshot that later steps do not change; everything else is JSON-able.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: _plain(value) for key, value in group.items() if key != "params"}
            packed["params"] = []
            for param in group["params"]:
                index[id(param)] = len(index)
                packed["params"].append(index[id(param)])
            groups.append(packed)
        state = {}
        for param, values in self.state.items():
            if id(param) in index and values:
                state[index[id(param)]] = {  # arrays (a 0-d parameter's 0-d ones too)
                    key: value.copy() if isinstance(value, np.ndarray) else _plain(value)
                    for key, value in values.items()
                }
        return {"state": state, "param_groups": groups}

    @state_dict_hooks.hooked_load_state_dict
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a :meth:`state_dict` (e.g. read back from a checkpoint).

        Arrays are copied and cast to their parameter's dtype; state keys may be ints or
        strings (as JSON gives them back). Raises ValueError when the groups do not match.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "optimizer state_dict must be a dict with keys 'state' and 'param_groups'. "
                f"Received: {type(state_dict).__name__}"
                + (f" with keys {sorted(state_dict)}" if isinstance(state_dict, dict) else "")
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups: the optimizer "
                f"has {len(self.param_groups)}, the state dict {len(saved_groups)}"
            )
        by_index: dict[int, Tensor] = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(group['params'])} parameters, "
                    f"the state dict {len(saved['params'])}"
                )
            for saved_index, param in zip(saved["params"], group["params"]):
                by_index[int(saved_index)] = param
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if int(key) not in by_index:
                raise ValueError(
                    f"loaded state dict has state for parameter {key}, which is in no group"
                )
            param = by_index[int(key)]
            new_state[param] = {
                name: self._load_value(param, int(key), name, value)
                for name, value in values.items()
            }
        for group, saved in zip(self.param_groups, saved_groups):
            options = {
                key: tuple(value) if isinstance(self.defaults.get(key), tuple) else
                value.detach().clone() if isinstance(value, Tensor) else _plain(value)
                for key, value in saved.items()
                if key != "params"
            }  # a tensor (lr) copied, as torch's deep copy: not the saved dict's
            params = group["params"]
            group.clear()
            group.update(options)
            group["params"] = params
        self.state = new_state

    @staticmethod
    def _load_value(param: Tensor, index: int, name: str, value: Any) -> Any:
        """A state entry for ``param``: arrays copied in its dtype and checked for shape (a
        0-d parameter's state arrays stay 0-d arrays), numbers as numbers; a tensor (the
        state of an Optimizer subclass that keeps tensors, as torch's) as a tensor copy, cast
        to the parameter's dtype when floating (but ``step``), as torch casts it."""
        if isinstance(value, Tensor):
            keep = name == "step" or value.dtype.kind != "f"
            return value.detach().to(value.dtype if keep else param.dtype, copy=True)
        if isinstance(value, np.generic) or (hasattr(value, "ndim") and value.ndim == 0
                                             and param._data.ndim != 0):
            return value.item()
        if not hasattr(value, "shape") and not isinstance(value, (list, tuple)):
            return value
        module = xp(param._data)
        array = module.array(value, dtype=param._data.dtype, copy=True)
        if array.shape != param._data.shape:
            raise ValueError(
                f"loaded state for parameter {index} has {name!r} of shape {tuple(array.shape)}, "
                f"expected the parameter's shape {tuple(param._data.shape)}"
            )
        return array

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"
