"""Adam (Kingma & Ba, 2015) with coupled L2 weight decay, AMSGrad and maximize.

``m ← β₁m + (1-β₁)g``, ``v ← β₂v + (1-β₂)g²``; ``p ← p - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ffnn import accel
from ffnn.backend import xp
from ffnn.optim._grad import effective_grad
from ffnn.optim.optimizer import Optimizer, check_number

_CHUNK = 1 << 15  # elements per block of the blocked NumPy update (a few cache-sized arrays)

IMPLEMENTATIONS = ("reference", "blocked", "compiled")
"""The Adam step's implementations, all the same formula: ``reference`` (NumPy, a dozen
whole-array passes), ``blocked`` (the reference over cache-sized blocks of a large
parameter, bit for bit equal to it) and ``compiled`` (``ffnn.accel``'s fused numba loop)."""


def adam_update(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, *, step: int, lr: float,
    beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool,
    maximize: bool, decoupled_weight_decay: bool, implementation: str = "auto",
) -> None:
    """One Adam step (``step`` counts from 1), in place on ``param`` and the moment arrays.

    Decoupled decay (AdamW): ``p ← p·(1 - lr·λ)`` first; coupled: ``g = ±grad + λ·p``.
    AMSGrad uses ``v̂ = max(v̂, v)`` in the denominator. ``scratch``: 2 arrays like ``p``.
    ``implementation``: one of ``IMPLEMENTATIONS``, or ``"auto"``: compiled when
    ``ffnn.accel`` is enabled and takes the arrays, else blocked for a large contiguous
    NumPy parameter, else the reference. Raises ValueError for one that cannot take them.
    """
    arrays = (param, grad, exp_avg, exp_avg_sq, *((max_exp_avg_sq,) if amsgrad else ()))
    if implementation == "auto":
        implementation = adam_implementation(arrays, scratch)
    elif implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be 'auto' or one of {list(IMPLEMENTATIONS)}. "
                         f"Received: implementation={implementation!r}")
    elif implementation == "compiled" and not (accel.available and accel.compatible(*arrays)):
        raise ValueError("implementation='compiled' needs numba and C-contiguous float32 or "
                         "float64 NumPy arrays of one dtype")
    elif implementation == "blocked" and not _blockable(arrays, scratch):
        raise ValueError("implementation='blocked' needs C-contiguous NumPy arrays")
    kernel = {"reference": _single_tensor_adam, "blocked": _blocked_adam,
              "compiled": _compiled_adam}[implementation]
    kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, step=step, lr=lr,
           beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
           maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)


def adam_implementation(arrays: tuple, scratch) -> str:
    """The implementation ``adam_update`` picks by default for these arrays (param, grad and
    the moments) and ``scratch``."""
    if accel.usable(*arrays, min_size=1):  # one fused pass beats a dozen, even for a bias
        return "compiled"
    if arrays[0].size > _CHUNK and _blockable(arrays, scratch):
        return "blocked"
    return "reference"


def _blockable(arrays: tuple, scratch) -> bool:
    return all(type(a) is np.ndarray and a.flags.c_contiguous for a in (*arrays, *scratch))


def _single_tensor_adam(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, *, step: int, lr: float,
    beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool,
    maximize: bool, decoupled_weight_decay: bool,
) -> None:
    """The reference: the formula as whole-array NumPy (or CuPy) passes, in place."""
    work, spare = scratch
    if decoupled_weight_decay:
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        g = effective_grad(param, grad, 0, maximize, work)
    else:
        g = effective_grad(param, grad, weight_decay, maximize, work)
    np.subtract(g, exp_avg, out=spare)  # m ← m + (1-β₁)(g - m), torch's lerp
    spare *= 1 - beta1
    exp_avg += spare
    exp_avg_sq *= beta2
    np.multiply(g, g, out=spare)
    spare *= 1 - beta2
    exp_avg_sq += spare
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    step_size = lr / (1 - beta1**step)
    np.sqrt(second, out=spare)
    spare /= (1 - beta2**step) ** 0.5
    spare += eps
    np.divide(exp_avg, spare, out=spare)
    spare *= -step_size
    param += spare


def _blocked_adam(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, *, step: int, lr: float,
    **options,
) -> None:
    """The reference on consecutive blocks of ``_CHUNK`` elements, so that each of its dozen
    passes runs in cache; element-wise, hence bit for bit the reference. Only the first
    block of the scratch arrays is used."""
    flat = [None if a is None else a.reshape(-1)
            for a in (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)]
    work, spare = (a.reshape(-1)[:_CHUNK] for a in scratch)
    for start in range(0, param.size, _CHUNK):
        part = [None if a is None else a[start:start + _CHUNK] for a in flat]
        n = part[0].size
        _single_tensor_adam(*part, (work[:n], spare[:n]), step=step, lr=lr, **options)


def _compiled_adam(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, *, step: int, lr: float,
    beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool,
    maximize: bool, decoupled_weight_decay: bool,
) -> None:
    """The formula in one fused compiled pass (``ffnn.accel.adam``); ``scratch`` unused."""
    accel.adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else None,
               step_size=lr / (1 - beta1**step), bias_correction2_sqrt=(1 - beta2**step) ** 0.5,
               eps=eps, beta1=beta1, beta2=beta2,
               weight_decay=0.0 if decoupled_weight_decay else weight_decay,
               decoupled_lr_decay=lr * weight_decay if decoupled_weight_decay else 0.0,
               maximize=maximize)


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False, decoupled_weight_decay=False)``, as ``torch.optim.Adam``.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).
    """

    def __init__(
        self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
        maximize: bool = False, decoupled_weight_decay: bool = False,
    ):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("lr", group["lr"], "learning rate")
        check_number("eps", group["eps"], "epsilon value")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2). Received: betas={betas!r}")
        group["betas"] = tuple(betas)
        for i, beta in enumerate(betas):
            check_number(f"betas[{i}]", beta, f"beta parameter at index {i}", high=1.0)
        check_number("weight_decay", group["weight_decay"], "weight_decay value")

    def _init_state(self, param, group) -> dict[str, Any]:
        module = xp(param)
        state = {"step": 0, "exp_avg": module.zeros_like(param),
                 "exp_avg_sq": module.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = module.zeros_like(param)
        return state

    def _update(self, param, grad, state, group, scratch) -> None:
        state["step"] += 1
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp(param).zeros_like(param)
        beta1, beta2 = group["betas"]
        adam_update(
            param, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"),
            scratch, step=state["step"], lr=group["lr"], beta1=beta1, beta2=beta2,
            eps=group["eps"], weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
            maximize=group["maximize"], decoupled_weight_decay=group["decoupled_weight_decay"],
        )
