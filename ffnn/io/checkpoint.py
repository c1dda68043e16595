"""One checkpoint format: ``ffnn.save`` / ``ffnn.load`` / ``ffnn.load_state_dict``.

A checkpoint is one ``.safetensors`` file: the model's tensors (``model.<name>``), the
optimizer's and scheduler's arrays (``optimizer.state.0.exp_avg`` …) and, in the header, JSON
metadata: format and ffnn versions, the architecture spec (so ``load`` rebuilds built-in models
without user code), frozen parameters, preprocessing state, user metadata (feature names, class
labels, epoch, history …) and RNG states. Writes are atomic; loading never runs code.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ffnn import random as _random
from ffnn.io import spec as _spec
from ffnn.io.objects import FORMAT as OBJECT_FORMAT
from ffnn.io.objects import decode_object, encode_object
from ffnn.io.safefile import CheckpointError, decode, encode, read_file, write_file
from ffnn.io.tree import pack, unpack
from ffnn.nn.module import Module, tensor_slots
from ffnn.tensor import Tensor

FORMAT_VERSION = 1
__all__ = ["save", "save_checkpoint", "load", "load_state_dict", "Checkpoint", "CheckpointError",
           "FORMAT_VERSION"]


@dataclass
class Checkpoint:
    """What :func:`load` returns: the rebuilt ``model`` and everything saved with it.

    ``optimizer`` / ``scheduler``: state dicts for ``.load_state_dict``; ``scaler``: the
    rebuilt scaler (StandardScaler / MinMaxScaler) or its saved dict; ``metadata``: the user's
    dict; ``training_state``: what a Trainer saved for resuming; ``rng_state``: the global
    generator's state at save time (``ffnn.set_rng_state`` restores it).
    """

    model: Module | None
    optimizer: dict | None = None
    scheduler: dict | None = None
    scaler: Any = None
    metadata: dict = field(default_factory=dict)
    training_state: dict | None = None
    rng_state: dict | None = None
    kind: str = "full"
    format_version: int = FORMAT_VERSION
    ffnn_version: str = ""
    path: str = ""


# ----- saving ---------------------------------------------------------------------------
def save(obj, f=None, *args, **kwargs) -> None:
    """Save in ffnn's safe format (safetensors + JSON, never pickle), in either of two forms.

    * ``save(obj, f)`` — torch's order: any tensor, array, number, string, list, dict (a
      state_dict, an optimizer's state_dict, ``{"epoch": 3, "model_state_dict": …}``) or a whole
      module, to a path or a binary file object, whatever its name (``model.pth``);
      ``ffnn.load(f)`` returns it. torch's ``pickle_module`` / ``pickle_protocol`` keywords are
      accepted and unused.
    * ``save(path, model, optimizer=None, scheduler=None, scaler=None, metadata=None, …)`` —
      ffnn's checkpoint (see :func:`save_checkpoint`); ``ffnn.load(path)`` returns a
      :class:`Checkpoint`.

    The form is told by the arguments' types: a Module second (or a path first and no path
    second) means ffnn's order, a path or a file object second torch's. Raises TypeError when
    it is neither, or for a value that cannot be saved.
    """
    is_target = isinstance(f, (str, os.PathLike)) or hasattr(f, "write")
    if isinstance(f, Module) or (f is None and "model" in kwargs) or (
            isinstance(obj, (str, os.PathLike)) and not is_target):
        save_checkpoint(obj, f if f is not None else kwargs.pop("model"), *args, **kwargs)
        return
    if not is_target:
        raise TypeError(
            "ffnn.save expects save(obj, path) as torch, or save(path, model, …) for an ffnn "
            f"checkpoint. Received: a {type(obj).__name__} and a {type(f).__name__} (the second "
            "argument must be a path, a file object or an ffnn.nn.Module)"
        )
    unknown = set(kwargs) - {"pickle_module", "pickle_protocol",
                             "_use_new_zipfile_serialization", "_disable_byteorder_record"}
    if args or unknown:
        raise TypeError(f"ffnn.save(obj, f) takes no further arguments. Received: "
                        f"{len(args)} positional, keywords {sorted(unknown)}")
    tensors, meta = encode_object(obj)
    if hasattr(f, "write"):
        f.write(encode(tensors, meta))
    else:
        write_file(f, tensors, meta)


def save_checkpoint(path: str | os.PathLike, model: Module, optimizer=None, scheduler=None,
                    scaler=None, metadata: Mapping | None = None, *,
                    adapters_only: bool = False, training_state: Mapping | None = None) -> None:
    """Write ``model`` (and optionally its optimizer, scheduler, scaler, metadata) to ``path``.

    ``metadata``: JSON-able values and arrays (feature names, class labels, epoch, history …).
    ``adapters_only``: save only the LoRA tensors and their config (load them onto the base
    model with ``ffnn.load(path, model=base)``). Raises TypeError for an unsavable value.
    """
    import ffnn
    from ffnn.finetune import lora
    from ffnn.finetune.freeze import is_frozen_batchnorm

    if not isinstance(model, Module):
        raise TypeError(f"ffnn.save: model must be an ffnn.nn.Module. Received: "
                        f"{type(model).__name__}")
    for name, value in (("optimizer", optimizer), ("scheduler", scheduler)):
        if value is not None and not hasattr(value, "state_dict"):
            raise TypeError(f"ffnn.save: {name} must have a state_dict() method. Received: "
                            f"{type(value).__name__}")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise TypeError(f"ffnn.save: metadata must be a dict. Received: "
                        f"{type(metadata).__name__}")
    tensors: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"format": "ffnn.checkpoint", "format_version": FORMAT_VERSION,
                            "ffnn_version": ffnn.__version__}
    if adapters_only:
        state = lora.lora_state_dict(model)
        if not state:
            raise ValueError("ffnn.save: adapters_only=True but the model has no LoRALinear "
                             "layers (add them with ffnn.finetune.apply_lora)")
        meta["kind"] = "adapters"
        meta["adapters"] = lora.lora_config(model)
    else:
        state = model.state_dict()
        meta["kind"] = "full"
        meta["model"] = _model_meta(model, is_frozen_batchnorm)
    tensors.update((f"model.{k}", np.asarray(v)) for k, v in state.items())
    meta["state_keys"] = list(state)  # safetensors sorts tensors; keep state_dict's order
    meta["optimizer"] = pack(optimizer.state_dict(), "optimizer", tensors) if optimizer else None
    meta["scheduler"] = pack(scheduler.state_dict(), "scheduler", tensors) if scheduler else None
    meta["scaler"] = pack(_scaler_state(scaler), "scaler", tensors) if scaler else None
    meta["metadata"] = pack(dict(metadata or {}), "metadata", tensors)
    meta["training_state"] = (pack(dict(training_state), "training_state", tensors)
                              if training_state is not None else None)
    meta["rng"] = _random.get_rng_state()
    write_file(path, tensors, meta)


def _model_meta(model: Module, is_frozen_batchnorm) -> dict:
    cls = type(model)
    try:
        spec, problem = _spec.module_spec(model), None
    except _spec.SpecError as error:
        spec, problem = None, str(error)
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "spec": spec, "spec_error": problem,
            "training": model.training,
            "frozen": [n for n, p in model.named_parameters() if not p.requires_grad],
            "frozen_batchnorm": [n for n, m in model.named_modules() if is_frozen_batchnorm(m)]}


def _scaler_classes() -> dict[str, type]:
    """The scalers a checkpoint rebuilds, by the name it stores for them."""
    from ffnn.data import scalers

    return {"StandardScaler": scalers.StandardScaler, "MinMaxScaler": scalers.MinMaxScaler}


def _scaler_state(scaler) -> dict:
    fitted = getattr(scaler, "is_fitted", True)
    name = next((name for name, cls in _scaler_classes().items() if isinstance(scaler, cls)),
                type(scaler).__name__)  # a subclass is saved (and rebuilt) as its scaler
    return {"class": name,
            "config": scaler.get_config() if hasattr(scaler, "get_config") else {},
            "state": scaler.state_dict() if fitted and hasattr(scaler, "state_dict") else None}


# ----- loading --------------------------------------------------------------------------
def load(path=None, model: Module | None = None, *, strict: bool = True, map_location=None,
         weights_only: bool | None = None, mmap: bool | None = None, f=None,
         **pickle_load_args):
    """Read what :func:`save` wrote, from a path or a binary file object.

    A file saved as ``save(obj, f)`` gives ``obj`` back (tensors as tensors, a module rebuilt
    from its class in the running program, see ``ffnn.io.objects``). An ffnn checkpoint gives a
    :class:`Checkpoint` with its model rebuilt (built-in architectures) or loaded into
    ``model`` (your instance: custom architectures, adapter-only checkpoints).

    torch's ``map_location`` (the CPU, a dict or a function), ``weights_only`` and ``mmap``
    are accepted; loading never runs code from the file either way. A second positional
    argument that is not a Module is read as ``map_location``, as in ``torch.load(f, 'cpu')``.
    Raises :class:`CheckpointError` for any invalid file. ``f=`` is torch's name for
    ``path``.
    """
    if (path is None) == (f is None):
        raise TypeError("load: give the file as the first argument (or f=, torch's name), "
                        "once")
    path = f if path is None else path
    if model is not None and not isinstance(model, Module):
        model, map_location = None, model
    label = os.fspath(path) if isinstance(path, (str, os.PathLike)) else "<file object>"
    if hasattr(path, "read"):
        tensors, meta = decode(label, path.read())
    else:
        tensors, meta = read_file(path)
    if meta.get("format") == OBJECT_FORMAT:
        return decode_object(label, tensors, meta, map_location)
    try:
        return _interpret(path, tensors, meta, model, strict)
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError,
            OverflowError, RecursionError) as error:
        raise CheckpointError(path, f"{type(error).__name__}: {error}") from None


def load_state_dict(path: str | os.PathLike) -> OrderedDict:
    """The model's tensors as ``name -> ndarray`` (for ``my_model.load_state_dict(...)``).

    For an adapter-only checkpoint: the LoRA tensors. Raises :class:`CheckpointError`.
    """
    tensors, meta = read_file(path)
    _check_version(path, meta)
    return _model_state(path, tensors, meta)


def _model_state(path, tensors: dict, meta: dict) -> OrderedDict:
    """The ``model.*`` tensors without the prefix, in the saved state_dict order."""
    keys = meta.get("state_keys")
    names = sorted(k[6:] for k in tensors if k.startswith("model."))
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) \
            or sorted(keys) != names:
        raise CheckpointError(path, "the metadata's state_keys do not match the model tensors")
    return OrderedDict((k, tensors["model." + k]) for k in keys)


def _check_version(path, meta: dict) -> None:
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(path, f"format version {version!r} is not supported (this ffnn "
                              f"reads version {FORMAT_VERSION}; upgrade ffnn for newer files)")


def _interpret(path, tensors, meta, model, strict) -> Checkpoint:
    _check_version(path, meta)
    state = _model_state(path, tensors, meta)
    kind = meta.get("kind")
    if kind == "adapters":
        model = _load_adapters(path, meta, state, model)
    elif kind == "full":
        model = _load_full(path, meta["model"], state, model, strict)
    else:
        raise CheckpointError(path, f"unknown checkpoint kind {kind!r}")
    return Checkpoint(
        model=model,
        optimizer=unpack(meta.get("optimizer"), tensors),
        scheduler=unpack(meta.get("scheduler"), tensors),
        scaler=_rebuild_scaler(unpack(meta.get("scaler"), tensors)),
        metadata=unpack(meta.get("metadata") or {}, tensors),
        training_state=unpack(meta.get("training_state"), tensors),
        rng_state=meta.get("rng"), kind=kind, format_version=meta["format_version"],
        ffnn_version=str(meta.get("ffnn_version", "")), path=os.fspath(path),
    )


def _load_adapters(path, meta, state, model) -> Module:
    from ffnn.finetune.lora import attach_adapters

    if not isinstance(model, Module):
        raise CheckpointError(path, "this is an adapter-only checkpoint: pass the base model, "
                              "ffnn.load(path, model=base_model)")
    return attach_adapters(model, meta["adapters"], state)


def _load_full(path, info: dict, state: OrderedDict, model: Module | None, strict) -> Module:
    if model is not None:
        if not isinstance(model, Module):
            raise TypeError(f"model must be an ffnn.nn.Module. Received: {type(model).__name__}")
        model.load_state_dict(state, strict=strict)
        return model
    if info.get("spec") is None:
        raise CheckpointError(path, f"the model is a {info.get('class')}, which ffnn cannot "
                              f"rebuild ({info.get('spec_error')}). Build it with your own "
                              "class and call model.load_state_dict(ffnn.load_state_dict(path)) "
                              "or ffnn.load(path, model=model)")
    shapes = {name: value.shape for name, value in state.items()}
    rng = _random.get_rng_state()  # building draws initial weights; keep the user's stream
    try:
        model = _spec.build_module(info["spec"], shapes)
    except _spec.SpecError as error:
        raise CheckpointError(path, str(error)) from None
    finally:
        _random.set_rng_state(rng)
    saved = info.get("class")
    if not isinstance(saved, str) or saved.rpartition(".")[2] != type(model).__name__:
        raise CheckpointError(path, f"the model class {saved!r} is not the "
                              f"{type(model).__name__} that its architecture spec builds")
    _assign_state(path, model, state)
    _restore_flags(model, info)
    return model


def _assign_state(path, model: Module, state: OrderedDict) -> None:
    """Put the file's arrays (their dtypes kept) into the rebuilt model; keys must match."""
    slots = {key: (module, name, tensor, is_parameter) for key, module, name, tensor, is_parameter
             in tensor_slots(model, persistent_only=True, remove_duplicate=False)}
    missing, unexpected = sorted(set(slots) - set(state)), sorted(set(state) - set(slots))
    if missing or unexpected:
        raise CheckpointError(path, f"the tensors disagree with the architecture spec: missing "
                              f"{missing}, unexpected {unexpected}")
    for key, (module, name, tensor, is_parameter) in slots.items():
        value = state[key]
        if value.shape != tensor._data.shape:
            raise CheckpointError(path, f"tensor {key!r} has shape {value.shape}, the "
                                  f"architecture spec implies {tensor._data.shape}")
        if is_parameter:
            tensor._data = value
        else:
            setattr(module, name, Tensor._make(value, False, None))


def _restore_flags(model: Module, info: dict) -> None:
    from ffnn.finetune.freeze import set_batchnorm_frozen

    params = dict(model.named_parameters())
    for name in info.get("frozen", []):
        params[name].requires_grad_(False)
    for name in info.get("frozen_batchnorm", []):
        set_batchnorm_frozen(model.get_submodule(name), True)
    model.train(bool(info.get("training", True)))


def _rebuild_scaler(saved):
    classes = _scaler_classes()
    if not isinstance(saved, dict) or saved.get("class") not in classes:
        return saved
    scaler = classes[saved["class"]].from_config(saved.get("config") or {})
    if saved.get("state") is not None:
        scaler.load_state_dict(saved["state"])
    return scaler
