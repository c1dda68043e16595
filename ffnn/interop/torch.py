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


# ----- whole models ---------------------------------------------------------------------
def _simple(torch_nn) -> dict:
    """torch class -> (ffnn class, constructor kwargs from the torch module)."""
    return {
        torch_nn.ReLU: lambda m: nn.ReLU(), torch_nn.Sigmoid: lambda m: nn.Sigmoid(),
        torch_nn.Tanh: lambda m: nn.Tanh(), torch_nn.SiLU: lambda m: nn.SiLU(),
        torch_nn.Identity: lambda m: nn.Identity(),
        torch_nn.GELU: lambda m: nn.GELU(m.approximate),
        torch_nn.LeakyReLU: lambda m: nn.LeakyReLU(m.negative_slope),
        torch_nn.Softmax: lambda m: nn.Softmax(m.dim if m.dim is not None else -1),
        torch_nn.LogSoftmax: lambda m: nn.LogSoftmax(m.dim if m.dim is not None else -1),
        torch_nn.Dropout: lambda m: nn.Dropout(m.p),
        torch_nn.Flatten: lambda m: nn.Flatten(m.start_dim, m.end_dim),
        torch_nn.Linear: lambda m: nn.Linear(m.in_features, m.out_features, m.bias is not None,
                                             dtype=str(m.weight.dtype)),
        torch_nn.BatchNorm1d: lambda m: nn.BatchNorm1d(
            m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats,
            dtype=str(m.weight.dtype) if m.affine else None),
        torch_nn.LayerNorm: lambda m: nn.LayerNorm(
            m.normalized_shape, m.eps, m.elementwise_affine, m.bias is not None,
            dtype=str(m.weight.dtype) if m.elementwise_affine else None),
        torch_nn.RMSNorm: lambda m: nn.RMSNorm(
            m.normalized_shape, m.eps, m.elementwise_affine,
            dtype=str(m.weight.dtype) if m.elementwise_affine else None),
    }


def _convert(module, table: dict, where: str) -> Module:
    torch_nn = _torch().nn
    if isinstance(module, torch_nn.Sequential):
        return nn.Sequential(OrderedDict(
            (name, _convert(child, table, f"{where}.{name}"))
            for name, child in module.named_children()))
    make = table.get(type(module))
    if make is None:
        raise TypeError(f"from_torch: {where} is a torch {type(module).__name__}, which has no "
                        f"ffnn equivalent (supported: Sequential, "
                        f"{', '.join(sorted(c.__name__ for c in table))})")
    return make(module)


def from_torch(module) -> Module:
    """The ffnn equivalent of a torch ``Sequential`` MLP (or single layer), weights copied.

    Raises TypeError naming the first layer ffnn cannot represent.
    """
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module. Received: "
                        f"{type(module).__name__}")
    model = _convert(module, _simple(torch.nn), "module")
    model.load_state_dict(to_numpy_state_dict(module.state_dict()))
    model.train(module.training)
    return model


def to_torch(model: Module):
    """A torch ``Sequential`` (or layer) equivalent to an ffnn model, weights copied.

    Raises TypeError for a layer torch cannot represent the same way.
    """
    torch = _torch()
    reverse = {
        nn.ReLU: lambda m: torch.nn.ReLU(), nn.Sigmoid: lambda m: torch.nn.Sigmoid(),
        nn.Tanh: lambda m: torch.nn.Tanh(), nn.SiLU: lambda m: torch.nn.SiLU(),
        nn.Identity: lambda m: torch.nn.Identity(),
        nn.GELU: lambda m: torch.nn.GELU(approximate=m.approximate),
        nn.LeakyReLU: lambda m: torch.nn.LeakyReLU(m.negative_slope),
        nn.Softmax: lambda m: torch.nn.Softmax(m.dim),
        nn.LogSoftmax: lambda m: torch.nn.LogSoftmax(m.dim),
        nn.Dropout: lambda m: torch.nn.Dropout(m.p),
        nn.Flatten: lambda m: torch.nn.Flatten(m.start_dim, m.end_dim),
        nn.Linear: lambda m: torch.nn.Linear(m.in_features, m.out_features,
                                             m.bias is not None),
        nn.BatchNorm1d: lambda m: torch.nn.BatchNorm1d(m.num_features, m.eps, m.momentum,
                                                       m.affine, m.track_running_stats),
        nn.LayerNorm: lambda m: torch.nn.LayerNorm(m.normalized_shape, m.eps,
                                                   m.elementwise_affine, m.bias is not None
                                                   if m.elementwise_affine else True),
        nn.RMSNorm: lambda m: torch.nn.RMSNorm(m.normalized_shape, m.eps, m.elementwise_affine),
    }

    def convert(module: Module, where: str):
        if isinstance(module, nn.Sequential):
            return torch.nn.Sequential(OrderedDict(
                (name, convert(child, f"{where}.{name}")) for name, child in
                module.named_children()))
        make = reverse.get(type(module))
        if make is None:
            raise TypeError(f"to_torch: {where} is a {type(module).__name__}, which has no torch "
                            "equivalent here (merge LoRA layers first with merge_lora)")
        return make(module)

    result = convert(model, "model")
    state = model.state_dict()
    dtypes = {v.dtype for v in state.values() if v.dtype.kind == "f"}
    if len(dtypes) == 1:
        result = result.to(getattr(torch, str(dtypes.pop())))
    result.load_state_dict(to_torch_state_dict(model))
    result.train(model.training)
    return result
