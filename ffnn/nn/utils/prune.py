"""``torch.nn.utils.prune``: zero parts of a module's tensors through a mask, W = W_orig ⊙ M.

``prune.l1_unstructured(layer, "weight", amount=0.3)`` gives ``layer`` the parameter
``weight_orig``, the buffer ``weight_mask`` and ``layer.weight`` = ``weight_orig ⊙
weight_mask``, recomputed by a forward pre-hook before each forward; ``prune.remove`` makes it
permanent. ``amount`` is a count (an int) or a fraction (a float in [0, 1]) of the entries or
channels still unpruned. The random methods draw from ffnn's generator (``ffnn.manual_seed``).
The methods' base and the iterative ``PruningContainer`` are in ``prune_base``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from ffnn import random as _random
from ffnn.backend import xp
from ffnn.nn.hooks import drop as drop_hook
from ffnn.nn.utils.prune_base import (
    BasePruningMethod,
    PruningContainer,
    as_array,
    count_to_prune,
    pruning_hooks,
    validate_amount,
    wrap,
)
from ffnn.tensor import Tensor

if TYPE_CHECKING:
    from ffnn.nn.module import Module

__all__ = [
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
    "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
    "l1_unstructured", "random_structured", "ln_structured", "global_unstructured",
    "custom_from_mask", "remove", "is_pruned",
]


class Identity(BasePruningMethod):
    """Prunes nothing: M = the earlier mask (ones at first)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> Identity:
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Zero ``amount`` entries of ``t`` drawn at random (ffnn's generator) in the mask."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        size = as_array(t).size
        count = count_to_prune(self.amount, size)
        mask = as_array(default_mask).copy()
        if count:
            mask.flat[_random.rng().permutation(size)[:count]] = 0
        return wrap(mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float) -> RandomUnstructured:
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Zero the ``amount`` entries of smallest |t| in the mask (the first ones among ties)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: int | float) -> None:
        validate_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        scores = as_array(t)
        count = count_to_prune(self.amount, scores.size)
        mask = as_array(default_mask).copy()
        if count:
            module = xp(scores)
            mask.flat[module.argsort(module.abs(scores), axis=None, kind="stable")[:count]] = 0
        return wrap(mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float,
              importance_scores: Tensor | None = None) -> L1Unstructured:
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _check_channels(scores, dim: int) -> int:
    """The channel count along ``dim``: ValueError for a 0-d or 1-d tensor, IndexError for a
    ``dim`` outside it."""
    if scores.ndim <= 1:
        raise ValueError("Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {scores.shape} with {scores.ndim} dims")
    if not -scores.ndim <= dim < scores.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {scores.shape}: dim must be "
                         f"in [{-scores.ndim}, {scores.ndim - 1}]. Received: dim={dim}")
    return scores.shape[dim]


def _channel_mask(keep, scores, dim: int, default_mask: Tensor) -> Tensor:
    """Ones on the channels ``keep`` (bool, one per channel along ``dim``), times the earlier
    mask."""
    shape = [1] * scores.ndim
    shape[dim] = keep.shape[0]
    mask = xp(scores).broadcast_to(keep.reshape(shape), scores.shape).astype(scores.dtype)
    return wrap(mask * as_array(default_mask).astype(scores.dtype))


class RandomStructured(BasePruningMethod):
    """Zero ``amount`` channels along ``dim`` drawn at random (ffnn's generator)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        validate_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        scores = as_array(t)
        channels = _check_channels(scores, self.dim)
        count = count_to_prune(self.amount, channels)
        if not count:
            return default_mask
        keep = np.ones(channels, dtype=bool)
        keep[_random.rng().permutation(channels)[:count]] = False
        return _channel_mask(keep, scores, self.dim, default_mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float,
              dim: int = -1) -> RandomStructured:
        return super().apply(module, name, amount=amount, dim=dim)


def channel_norms(scores, n: float | str, dim: int):
    """‖t_c‖_n of each channel c along ``dim``, over all other axes, as ``torch.norm(t, p=n,
    dim=others)``: n a number (0 counts nonzeros, ±inf is max/min |t|), ``'fro'`` (n = 2) or
    ``'nuc'`` (two other axes only; RuntimeError otherwise, and for another string)."""
    module = xp(scores)
    dim = dim % scores.ndim
    if n == "nuc":
        axes = tuple(d for d in range(scores.ndim) if d != dim)
        if len(axes) != 2:
            raise RuntimeError(f"n='nuc' needs exactly two dims besides dim (a 3-d tensor). "
                               f"Received: a {scores.ndim}-d tensor")
        return module.linalg.norm(scores, ord="nuc", axis=axes)
    if isinstance(n, str) and n != "fro":
        raise RuntimeError(f"n must be a number, 'fro' or 'nuc'. Received: n={n!r}")
    p = 2.0 if n == "fro" else float(n)
    rows = module.abs(module.moveaxis(scores, dim, 0).reshape(scores.shape[dim], -1))
    if p == np.inf:
        return rows.max(axis=1)
    if p == -np.inf:
        return rows.min(axis=1)
    if p == 0:
        return (rows != 0).sum(axis=1).astype(scores.dtype)
    with np.errstate(divide="ignore"):  # 0 ** p = inf for p < 0; the norm is then 0, as torch
        return (rows ** p).sum(axis=1) ** (1.0 / p)


class LnStructured(BasePruningMethod):
    """Zero the ``amount`` channels along ``dim`` of smallest L``n`` norm (the last ones among
    ties)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, n: float | str, dim: int = -1) -> None:
        validate_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        scores = as_array(t)
        channels = _check_channels(scores, self.dim)
        count = count_to_prune(self.amount, channels)
        norms = channel_norms(scores, self.n, self.dim)
        if not count:
            return default_mask
        keep = np.zeros(channels, dtype=bool)
        keep[np.argsort(-norms, kind="stable")[:channels - count]] = True
        return _channel_mask(keep, scores, self.dim, default_mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float, n: float | str, dim: int,
              importance_scores: Tensor | None = None) -> LnStructured:
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """M = the earlier mask ⊙ ``mask`` (any 0/1 tensor or array of the tensor's shape)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        given, default = as_array(self.mask), as_array(default_mask)
        if given.shape != default.shape:
            raise AssertionError(f"default_mask shape {default.shape} must match self.mask "
                                 f"shape {given.shape}")
        return wrap(default * given.astype(default.dtype))

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor) -> CustomFromMask:
        return super().apply(module, name, mask=mask)


def identity(module: Module, name: str) -> Module:
    """Reparametrize ``module.<name>`` as W_orig ⊙ M with M all ones; returns ``module``."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: int | float) -> Module:
    """Prune ``amount`` unpruned entries of ``module.<name>`` at random; returns ``module``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: int | float,
                    importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` unpruned entries of ``module.<name>`` with the smallest |score|
    (the tensor's own values where ``importance_scores`` is None); returns ``module``."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: int | float, dim: int) -> Module:
    """Prune ``amount`` unpruned channels along ``dim`` at random; returns ``module``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount: int | float, n: float | str, dim: int,
                  importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` unpruned channels along ``dim`` with the smallest L``n`` norm of
    their scores (``dim=0`` of a Linear weight: output units); returns ``module``."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prune ``module.<name>`` where ``mask`` (its shape) is 0; returns ``module``."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters: Iterable, pruning_method: type,
                        importance_scores: dict | None = None, **kwargs) -> None:
    """Prune the tensors ``(module, name)`` of ``parameters`` as one vector with
    ``pruning_method(**kwargs)`` (an unstructured method: ``amount`` counts over all of them),
    scored by ``importance_scores[(module, name)]`` where given, else by the tensors.

    TypeError where ``parameters`` is not iterable, ``importance_scores`` not a dict, or the
    method's ``PRUNING_TYPE`` is not ``'unstructured'``.
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable of (module, name) "
                        f"pairs. Received: {type(parameters).__name__}")
    parameters = list(parameters)
    importance_scores = {} if importance_scores is None else importance_scores
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict. "
                        f"Received: {type(importance_scores).__name__}")
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    scores = [as_array(importance_scores.get((module, name), getattr(module, name)))
              for module, name in parameters]
    masks = [as_array(module._buffers[name + "_mask"]) if name + "_mask" in module._buffers
             else np.ones(np.shape(score)) for (module, name), score in zip(parameters, scores)]
    container = PruningContainer(method)
    final_mask = as_array(container.compute_mask(
        wrap(np.concatenate([score.reshape(-1) for score in scores])),
        wrap(np.concatenate([mask.reshape(-1) for mask in masks]))))
    start = 0
    for (module, name), score in zip(parameters, scores):
        size = score.size
        custom_from_mask(module, name, mask=final_mask[start:start + size].reshape(score.shape))
        start += size


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent: the parameter ``<name>`` = W_orig ⊙ M,
    and ``<name>_orig``, ``<name>_mask`` and the hook go. ValueError where it is not
    pruned."""
    hooks = pruning_hooks(module)
    for key, hook in list(hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            drop_hook(module, "_forward_pre_hooks", key)
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or one of its submodules has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for submodule in module.modules() for hook in pruning_hooks(submodule).values())
