"""LoRA (Hu et al., 2021): a frozen Linear plus a trainable low-rank update.

``y = x Wᵀ + b + (α/r) · dropout(x) Aᵀ Bᵀ`` with A [r, in] (kaiming-uniform) and B [out, r]
(zeros), so a fresh adapter leaves the layer's output unchanged. Gradients flow only into A and
B (the base is frozen); ``merge_lora`` folds ``W + (α/r)·B A`` back into plain Linears.
"""

from __future__ import annotations

import copy
import fnmatch
import math
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np

from ffnn import ops
from ffnn.nn import init
from ffnn.nn.linear import Linear, NonDynamicallyQuantizableLinear
from ffnn.nn.module import Module
from ffnn.nn.normalization import Dropout
from ffnn.nn.parameter import Parameter
from ffnn.tensor import Tensor


class LoRALinear(Module):
    """``base(x) + (alpha/r) · lora_B(lora_A(dropout(x)))``; children ``base`` and
    ``lora_dropout``, parameters ``lora_A`` [r, in_features] and ``lora_B`` [out_features, r].

    Raises TypeError if ``base`` is not a Linear, ValueError for r < 1, alpha <= 0 or a dropout
    outside [0, 1].
    """

    def __init__(self, base: Linear, r: int = 8, alpha: float = 16.0, dropout: float = 0.0,
                 generator=None):
        super().__init__()
        if not isinstance(base, Linear):
            raise TypeError(f"LoRALinear: base must be an ffnn.nn.Linear. Received: "
                            f"base of type {type(base).__name__}")
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
            raise ValueError(f"LoRALinear: r must be a positive integer. Received: r={r!r}")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ValueError(f"LoRALinear: alpha must be a positive number. Received: "
                             f"alpha={alpha!r}")
        self.r, self.alpha, self.scaling = int(r), float(alpha), float(alpha) / int(r)
        self.base = base
        self.lora_dropout = Dropout(dropout)
        dtype = base.weight.dtype
        self.lora_A = Parameter(np.empty((self.r, base.in_features), dtype=dtype))
        self.lora_B = Parameter(np.zeros((base.out_features, self.r), dtype=dtype))
        init.kaiming_uniform_(self.lora_A, a=math.sqrt(5), generator=generator)

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def forward(self, input: Tensor) -> Tensor:
        out = self.base(input)
        update = ops.linear(ops.linear(self.lora_dropout(_as_tensor(input)), self.lora_A),
                            self.lora_B)
        return out + update * self.scaling

    def delta_weight(self) -> np.ndarray:
        """ΔW = (α/r) · B A, shape [out_features, in_features]."""
        return (self.lora_B._data @ self.lora_A._data) * self.scaling

    def get_config(self) -> dict:
        return {"r": self.r, "alpha": self.alpha, "dropout": self.lora_dropout.p,
                "in_features": self.in_features, "out_features": self.out_features,
                "bias": self.base.bias is not None}

    @classmethod
    def from_config(cls, config: dict) -> LoRALinear:
        base = Linear(config["in_features"], config["out_features"], bias=config["bias"])
        return cls(base, config["r"], config["alpha"], config["dropout"])

    @staticmethod
    def config_shapes(config: dict) -> dict[str, tuple]:
        """The tensor shapes a config implies (checked before building from a file)."""
        r, n_in, n_out = config["r"], config["in_features"], config["out_features"]
        shapes = {"lora_A": (r, n_in), "lora_B": (n_out, r), "base.weight": (n_out, n_in)}
        return {**shapes, "base.bias": (n_out,)} if config["bias"] else shapes

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha:g}, scaling={self.scaling:g}"


def _as_tensor(input) -> Tensor:
    return input if isinstance(input, Tensor) else Tensor._of(input)


def set_child(parent: Module, name: str, module: Module) -> None:
    """Replace (or add) child ``name`` keeping its position among the siblings."""
    if name in parent._modules:
        parent._modules[name] = module
    else:
        parent.add_module(name, module)


def _parent(model: Module, name: str) -> tuple[Module, str]:
    parent_name, _, child = name.rpartition(".")
    return model.get_submodule(parent_name), child


def lora_targets(model: Module, target: str | Iterable[str] = "all-linear") -> list[str]:
    """Names of the Linear modules that ``target`` selects.

    ``'all-linear'``: every Linear except the last one (the output head, as PEFT does); a
    string: a glob pattern on module names (``'0'``, ``'*.fc1'``, ``'*'``); a list: exact names.
    Raises ValueError if nothing matches.
    """
    linears = [name for name, m in model.named_modules()
               if type(m) in (Linear, NonDynamicallyQuantizableLinear) and name]
    if isinstance(target, str):
        if target == "all-linear":
            chosen = linears[:-1]
        else:
            chosen = [name for name in linears if fnmatch.fnmatchcase(name, target)]
    else:
        wanted = list(target)
        chosen = [name for name in linears if name in wanted]
        missing = [name for name in wanted if name not in chosen]
        if missing:
            raise ValueError(f"apply_lora: no Linear named {missing} in the model. Linear "
                             f"modules: {linears}. Received: target={wanted!r}")
    if not chosen:
        raise ValueError(f"apply_lora: target selects no Linear module (Linear modules: "
                         f"{linears}). Received: target={target!r}")
    return chosen


def apply_lora(model: Module, target: str | Iterable[str] = "all-linear", r: int = 8,
               alpha: float = 16.0, dropout: float = 0.0, generator=None) -> Module:
    """Wrap the targeted Linears in :class:`LoRALinear` (in place) and freeze every other
    parameter; returns ``model``. Unfreeze a new head yourself (``finetune.unfreeze``)."""
    names = lora_targets(model, target)
    for param in model.parameters():
        param.requires_grad_(False)
    for name in names:
        parent, child = _parent(model, name)
        set_child(parent, child, LoRALinear(parent._modules[child], r, alpha, dropout,
                                            generator))
    return model


def merge_lora(model: Module) -> Module:
    """A copy of ``model`` with every LoRALinear replaced by a plain Linear of weight
    ``W + (α/r)·B A`` (same outputs, no adapter cost at inference)."""
    merged = copy.deepcopy(model)
    if isinstance(merged, LoRALinear):
        return _merged_linear(merged)
    for name, module in list(merged.named_modules()):
        if isinstance(module, LoRALinear) and name:
            parent, child = _parent(merged, name)
            set_child(parent, child, _merged_linear(module))
    return merged


def _merged_linear(module: LoRALinear) -> Linear:
    base = module.base
    base.weight._data = (base.weight._data + module.delta_weight()).astype(base.weight.dtype)
    return base


def lora_modules(model: Module) -> OrderedDict:
    """Name → LoRALinear for every adapter in ``model``."""
    return OrderedDict((name, m) for name, m in model.named_modules()
                       if isinstance(m, LoRALinear))


def lora_state_dict(model: Module) -> OrderedDict:
    """Only the adapter tensors: ``<name>.lora_A`` and ``<name>.lora_B`` of every LoRALinear."""
    state = OrderedDict()
    for name, module in lora_modules(model).items():
        dot = f"{name}." if name else ""
        state[dot + "lora_A"] = module.lora_A._data
        state[dot + "lora_B"] = module.lora_B._data
    return state


def lora_config(model: Module) -> dict:
    """Name → {r, alpha, dropout, in_features, out_features, bias} of every adapter."""
    return {name: module.get_config() for name, module in lora_modules(model).items()}


def attach_adapters(model: Module, config: dict, state: dict) -> Module:
    """Put adapters described by ``config`` (from :func:`lora_config`) on ``model`` and load
    their tensors from ``state``; already-wrapped layers are reused. Freezes the rest, as
    :func:`apply_lora` does. Raises ValueError when a layer is missing or shapes disagree."""
    for name, cfg in config.items():
        try:
            module = model.get_submodule(name)
        except AttributeError:
            raise ValueError(f"the model has no layer {name!r} for an adapter") from None
        if isinstance(module, Linear) and name:
            if (module.in_features, module.out_features) != (cfg["in_features"],
                                                             cfg["out_features"]):
                raise ValueError(
                    f"adapter for {name!r} expects Linear({cfg['in_features']}, "
                    f"{cfg['out_features']}); the model has Linear({module.in_features}, "
                    f"{module.out_features})")
        elif not isinstance(module, LoRALinear):
            raise ValueError(f"adapter for {name!r} needs a Linear; the model has "
                             f"{type(module).__name__}")
    for param in model.parameters():
        param.requires_grad_(False)
    for name, cfg in config.items():
        module = model.get_submodule(name)
        if isinstance(module, Linear):
            parent, child = _parent(model, name)
            module = LoRALinear(module, cfg["r"], cfg["alpha"], cfg["dropout"])
            set_child(parent, child, module)
        module.lora_A.requires_grad_(True)
        module.lora_B.requires_grad_(True)
        for key in ("lora_A", "lora_B"):
            value = np.asarray(state[f"{name}.{key}"])
            target = getattr(module, key)
            if value.shape != target.shape:
                raise ValueError(f"adapter tensor {name}.{key} has shape {value.shape}, the "
                                 f"layer expects {target.shape}")
            target._data = value.astype(target.dtype, copy=True)
    return model
