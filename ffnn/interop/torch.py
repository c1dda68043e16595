"""PyTorch interop: state_dicts both ways and ``torch.nn.Sequential`` MLPs ↔ ffnn models.

The layouts are the same (``Linear.weight`` is [out, in], BatchNorm's buffers are
``running_mean``/``running_var``/``num_batches_tracked``), so tensors move unchanged:

    model.load_state_dict(load_state_dict_file("model.safetensors"))  # safetensors.torch file
    torch_model.load_state_dict(to_torch_state_dict(model))
    model = from_torch(torch_sequential)                              # rebuild + copy weights

torch is imported only inside the functions that need it.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ffnn import nn
from ffnn.io.safefile import read_safetensors
from ffnn.nn import traits
from ffnn.nn.module import Module


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is an optional dependency
        raise ImportError("ffnn.interop.torch needs PyTorch: pip install torch") from None
    return torch


def load_state_dict_file(path: str | os.PathLike) -> OrderedDict:
    """Read a plain safetensors state_dict (``safetensors.torch.save_file``) as name → ndarray.

    Validated before reading (no pickle, bounded header); raises ``ffnn.CheckpointError``.
    """
    tensors, _ = read_safetensors(path)
    return OrderedDict(tensors)


def to_numpy_state_dict(state_dict: Mapping) -> OrderedDict:
    """A dict of torch tensors (or arrays) → name → ndarray (copies, dtypes kept)."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of name -> tensor. Received: "
                        f"{type(state_dict).__name__}")
    out = OrderedDict()
    for name, value in state_dict.items():
        if type(value).__module__.startswith("torch"):
            value = value.detach().cpu().numpy()
        out[name] = np.array(value, copy=True)
    return out


def load_torch_state_dict(model: Module, state_dict: Mapping | str | os.PathLike,
                          strict: bool = True):
    """Load a torch state_dict (a dict of tensors, or a safetensors file path) into ``model``.

    Values are cast to the model's dtypes; missing/unexpected/mis-shaped keys raise
    RuntimeError (as ``Module.load_state_dict``).
    """
    if isinstance(state_dict, (str, os.PathLike)):
        state_dict = load_state_dict_file(state_dict)
    return model.load_state_dict(to_numpy_state_dict(state_dict), strict=strict)


def to_torch_state_dict(model: Module) -> OrderedDict:
    """``model.state_dict()`` as torch tensors (copies) for ``torch_module.load_state_dict``."""
    torch = _torch()
    return OrderedDict((k, torch.from_numpy(np.array(v, copy=True)))
                       for k, v in model.state_dict().items())


# ----- whole models: each layer declares its torch class (the ``torch`` trait) -------------
def _from_torch_kwargs(entry: traits.Traits, module) -> dict:
    """The ffnn constructor arguments for a torch layer: the declared ``from_torch``, else the
    spec's attributes read from the torch module (and its weight's dtype)."""
    if entry.from_torch is not None:
        return entry.from_torch(module)
    kwargs = {key: getattr(module, key) for key in entry.config or ()}
    weight = getattr(module, "weight", None)
    if weight is not None:
        kwargs["dtype"] = str(weight.dtype)
    return kwargs


def _torch_table(torch_nn) -> dict:
    """torch class -> the traits of its ffnn equivalent."""
    return {getattr(torch_nn, t.torch): t for t in traits.all_traits()
            if t.torch and hasattr(torch_nn, t.torch)}


def _convert(module, table: dict, where: str) -> Module:
    torch_nn = _torch().nn
    if isinstance(module, torch_nn.Sequential):
        return nn.Sequential(OrderedDict(
            (name, _convert(child, table, f"{where}.{name}"))
            for name, child in module._modules.items()))  # every position, shared ones too
    entry = table.get(type(module))
    if entry is None:
        raise TypeError(f"from_torch: {where} is a torch {type(module).__name__}, which has no "
                        f"ffnn equivalent (supported: Sequential, "
                        f"{', '.join(sorted(c.__name__ for c in table))})")
    return entry.cls(**_from_torch_kwargs(entry, module))


def from_torch(module) -> Module:
    """The ffnn equivalent of a torch ``Sequential`` MLP (or single layer), weights copied.

    Raises TypeError naming the first layer ffnn cannot represent.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module. Received: "
                        f"{type(module).__name__}")
    model = _convert(module, _torch_table(torch.nn), "module")
    model.load_state_dict(to_numpy_state_dict(module.state_dict()))
    model.train(module.training)
    return model


def to_torch(model: Module):
    """A torch ``Sequential`` (or layer) equivalent to an ffnn model, weights copied.

    Raises TypeError for a layer torch cannot represent the same way.
    """
    torch = _torch()

    def convert(module: Module, where: str):
        if isinstance(module, nn.Sequential):
            return torch.nn.Sequential(OrderedDict(
                (name, convert(child, f"{where}.{name}")) for name, child in
                module._modules.items()))  # every position, a shared layer's too
        entry = traits.of(module)
        if entry is None or not entry.torch:
            raise TypeError(f"to_torch: {where} is a {type(module).__name__}, which has no torch "
                            "equivalent here (merge LoRA layers first with merge_lora)")
        return getattr(torch.nn, entry.torch)(**entry.to_config(module))

    result = convert(model, "model")
    state = model.state_dict()
    dtypes = {v.dtype for v in state.values() if v.dtype.kind == "f"}
    if len(dtypes) == 1:
        result = result.to(getattr(torch, str(dtypes.pop())))
    result.load_state_dict(to_torch_state_dict(model))
    result.train(model.training)
    return result
