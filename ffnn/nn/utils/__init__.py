"""Gradient clipping, flat parameter vectors, an L1 penalty and weight-decay parameter groups;
the submodules `parametrize`, `parametrizations` and `rnn` (padding), and weight and
spectral norm as hooks.

``clip_grad_norm_`` and ``clip_grad_value_`` work in place on the gradient arrays, as in
``torch.nn.utils``; the others build on ``ffnn`` ops so that gradients flow through them.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from ffnn.backend import xp
from ffnn.tensor import Tensor


def _as_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    params = list(parameters)
    for param in params:
        if not isinstance(param, Tensor):
            raise TypeError(
                f"parameters must be Tensors. Received: an element of type {type(param).__name__}"
            )
    return params


def _norm_type(norm_type: Any) -> float:
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, numbers.Real) or norm_type <= 0:
        raise ValueError(
            f"norm_type must be a positive number or inf. Received: norm_type={norm_type!r}"
        )
    return float(norm_type)


def _grad_norm(grad, norm_type: float):
    """``‖grad‖_p`` of one gradient array (``max |g|`` for ``p = inf``), in its dtype."""
    module = xp(grad)
    flat = grad.reshape(-1)
    if flat.size == 0:
        return module.zeros((), dtype=grad.dtype)
    if norm_type == math.inf:
        return module.abs(flat).max()
    if norm_type == 2.0:
        return module.sqrt(module.dot(flat, flat))
    if norm_type == 1.0:
        return module.abs(flat).sum()
    return (module.abs(flat) ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float | str = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """``N = ‖(‖t₁‖_p, …, ‖t_k‖_p)‖_p``: the norm of ``tensors`` (gradients, say) as one
    vector, a 0-d tensor (0 for none). RuntimeError where ``N`` is NaN or inf and
    ``error_if_nonfinite``. ``foreach`` is accepted, as torch's, and changes nothing."""
    arrays = [t._data for t in _as_list(tensors)]
    norm_type = _norm_type(norm_type)
    if not arrays:
        return Tensor._of(0.0)
    module = xp(arrays[0])
    stacked = module.stack([module.asarray(_grad_norm(a, norm_type), dtype=arrays[0].dtype)
                            for a in arrays])
    total = _grad_norm(stacked, norm_type)
    if error_if_nonfinite and not bool(module.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite ({float(total)}), so it cannot be clipped. To disable this error and "
            "scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._of(module.asarray(total))


def clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                          total_norm, foreach: bool | None = None) -> None:
    """``g ← g · min(1, max_norm / (total_norm + 1e-6))`` for every parameter's gradient, in
    place (``total_norm`` from ``get_total_norm``, or any number)."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or max_norm < 0:
        raise ValueError(f"max_norm must be a number >= 0. Received: max_norm={max_norm!r}")
    clip_coef = max_norm / (float(total_norm) + 1e-6)
    if clip_coef < 1.0 or math.isnan(clip_coef):
        with np.errstate(invalid="ignore"):  # inf · 0 = nan, as torch gives
            for param in _as_list(parameters):
                if param._grad is not None:
                    param._grad *= clip_coef


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False, foreach: bool | None = None,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``:
    ``get_total_norm`` of the gradients, then ``clip_grads_with_norm_``. Parameters without
    ``.grad`` are ignored. Returns the norm before clipping (a 0-d tensor)."""
    params = _as_list(parameters)
    if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or max_norm < 0:
        raise ValueError(f"max_norm must be a number >= 0. Received: max_norm={max_norm!r}")
    with_grads = [p for p in params if p._grad is not None]
    total = get_total_norm([Tensor._make(p._grad, False, None) for p in with_grads],
                           norm_type, error_if_nonfinite)
    if with_grads:
        clip_grads_with_norm_(with_grads, max_norm, total)
    return total


def clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float,
                   norm_type: float | str = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """torch's deprecated name for ``clip_grad_norm_`` (it warns, as torch's)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place
    (``foreach``: how torch loops over the gradients; the same values)."""
    if isinstance(clip_value, bool) or not isinstance(clip_value, numbers.Real) or clip_value < 0:
        raise ValueError(
            f"clip_value must be a number >= 0. Received: clip_value={clip_value!r}"
        )
    for param in _as_list(parameters):
        if param._grad is not None:
            xp(param._grad).clip(param._grad, -clip_value, clip_value, out=param._grad)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    from ffnn.creation import cat

    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector needs at least one parameter. Received: none")
    return cat([param.reshape(-1) for param in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' arrays, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected an ffnn Tensor for vec. Received: {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(param._data.size for param in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(
            f"vec must be 1-D with {total} elements (one per parameter element). "
            f"Received: vec of shape {tuple(vec.shape)}"
        )
    offset = 0
    for param in params:
        size = param._data.size
        param._data[...] = vec._data[offset:offset + size].reshape(param._data.shape)
        offset += size


def l1_penalty(parameters: Tensor | Iterable[Tensor]) -> Tensor:
    """``Σ |w|`` over all elements of all parameters, as a differentiable 0-d tensor.

    Add ``λ · l1_penalty(model.parameters())`` to a loss; its gradient is ``λ · sign(w)``.
    """
    params = _as_list(parameters)
    if not params:
        return Tensor._of(0.0)
    total = params[0].abs().sum()
    for param in params[1:]:
        total = total + param.abs().sum()
    return total


def decay_param_groups(model, weight_decay: float) -> list[dict[str, Any]]:
    """Two parameter groups for an optimizer: ``[{"params": decayed, "weight_decay": λ},
    {"params": others, "weight_decay": 0.0}]``.

    Decay applies to weight matrices; biases and other 1-D parameters, and every parameter
    of a ``LayerNorm``, ``BatchNorm1d`` or ``RMSNorm`` (or a subclass of one), get none.
    """
    from ffnn.nn.normalization import BatchNorm1d, LayerNorm, RMSNorm

    if isinstance(weight_decay, bool) or not isinstance(weight_decay, numbers.Real) \
            or weight_decay < 0:
        raise ValueError(
            f"weight_decay must be a number >= 0. Received: weight_decay={weight_decay!r}"
        )
    if not hasattr(model, "named_modules"):
        raise TypeError(f"model must be an nn.Module. Received: {type(model).__name__}")
    decay, no_decay, seen = [], [], set()
    for _, module in model.named_modules():
        is_norm = isinstance(module, (LayerNorm, BatchNorm1d, RMSNorm))
        for _, param in module.named_parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            (no_decay if is_norm or param.ndim <= 1 else decay).append(param)
    return [
        {"params": decay, "weight_decay": float(weight_decay)},
        {"params": no_decay, "weight_decay": 0.0},
    ]


from ffnn.nn.utils import parametrizations, parametrize, prune, rnn, stateless  # noqa: E402,F401 - torch's submodules
from ffnn.nn.utils.weight_hooks import (  # noqa: E402,F401 - torch's older forms
    remove_spectral_norm,
    remove_weight_norm,
    spectral_norm,
    weight_norm,
)
