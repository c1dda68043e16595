"""Adam (Kingma & Ba, 2015) with coupled L2 weight decay, AMSGrad and maximize.

``m ← β₁m + (1-β₁)g``, ``v ← β₂v + (1-β₂)g²``; ``p ← p - lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)``,
computed as ``p ← p - lr·√(1-β₂ᵗ)/(1-β₁ᵗ) · m / (√v + ε·√(1-β₂ᵗ))`` (one division).
Sibling updates: ``_single_tensor_adam`` (the reference), ``_blocked_adam``, ``_compiled_adam``
(generated from ``ADAM_KERNEL``); ``adam_update`` dispatches.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ffnn.backend import xp
from ffnn.kernels import ElementwiseKernel
from ffnn.optim import _dispatch
from ffnn.optim._dispatch import IMPLEMENTATIONS  # noqa: F401 - the names it accepts
from ffnn.optim._grad import effective_grad
from ffnn.optim.optimizer import (
    Optimizer,
    check_implementation,
    check_learning_rate,
    check_number,
    check_tensor_lr_foreach,
    learning_rate,
)

_CHUNK = _dispatch.CHUNK


def adam_update(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, *, step: int, lr: float,
    beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool,
    maximize: bool, decoupled_weight_decay: bool, implementation: str = "auto",
) -> None:
    """One Adam step (``step`` counts from 1), in place on ``param`` and the moment arrays.

    Decoupled decay (AdamW): ``p ← p·(1 - lr·λ)`` first; coupled: ``g = ±grad + λ·p``.
    AMSGrad uses ``v̂ = max(v̂, v)`` in the denominator. ``scratch``: 2 arrays like ``p``.
    ``implementation``: ``"reference"``, ``"blocked"``, ``"compiled"`` or ``"auto"``
    (``ffnn.optim._dispatch.choose``). Raises ValueError for one that cannot take the arrays.
    """
    arrays = (param, grad, exp_avg, exp_avg_sq, *((max_exp_avg_sq,) if amsgrad else ()))
    update = _dispatch.pick("adam_update", implementation, arrays, scratch, {
        "reference": _single_tensor_adam, "blocked": _blocked_adam, "compiled": _compiled_adam})
    update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, step=step, lr=lr,
           beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
           maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)


def adam_implementation(arrays: tuple, scratch) -> str:
    """The implementation ``adam_update`` picks by default for these arrays (param, grad and
    the moments) and ``scratch``."""
    return _dispatch.choose(arrays, scratch, blocked=True)


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
    step_size, bias_correction2_sqrt = adam_step_coefficients(lr, beta1, beta2, step)
    np.sqrt(second, out=spare)
    spare += eps * bias_correction2_sqrt
    np.divide(exp_avg, spare, out=spare)
    spare *= -step_size
    param += spare


def _blocked_adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, **options) -> None:
    """The reference on cache-sized blocks (``ffnn.optim._dispatch.run_blocked``)."""
    _dispatch.run_blocked(_single_tensor_adam, (param, grad, exp_avg, exp_avg_sq,
                                                max_exp_avg_sq), scratch, **options)


ADAM_KERNEL = ElementwiseKernel(
    "adam", reads=("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    writes=("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), optional=("max_exp_avg_sq",),
    scalars=("decay", "sign", "weight_decay", "one_minus_beta1", "beta2", "one_minus_beta2",
             "step_size", "bias_correction2_sqrt", "eps"),
    flush_subnormals=True,
    body="""
    param = param * decay
    g = sign * grad + weight_decay * param
    exp_avg = exp_avg + one_minus_beta1 * (g - exp_avg)
    exp_avg_sq = beta2 * exp_avg_sq + one_minus_beta2 * (g * g)
    second = exp_avg_sq
    if has_max_exp_avg_sq:
        max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)
        second = max_exp_avg_sq
    param = param - step_size * (exp_avg / (math.sqrt(second) + eps * bias_correction2_sqrt))
    """)
"""The Adam update on one element (``decay = 1 - lr·λ`` for AdamW, else 1)."""


def _compiled_adam(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, scratch, *, step: int, lr: float,
    beta1: float, beta2: float, eps: float, weight_decay: float, amsgrad: bool,
    maximize: bool, decoupled_weight_decay: bool,
) -> None:
    """The formula in one generated compiled pass (``ADAM_KERNEL``); ``scratch`` unused."""
    ADAM_KERNEL(
        param=param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq,
        max_exp_avg_sq=max_exp_avg_sq if amsgrad else None,
        **adam_kernel_scalars(step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                              weight_decay=weight_decay, maximize=maximize,
                              decoupled_weight_decay=decoupled_weight_decay))


def adam_kernel_scalars(*, step: int, lr: float, beta1: float, beta2: float, eps: float,
                        weight_decay: float, maximize: bool,
                        decoupled_weight_decay: bool) -> dict[str, float]:
    """``ADAM_KERNEL``'s scalars for one step, by name: step_size = lr·√(1 - β₂ᵗ)/(1 - β₁ᵗ)
    and bias_correction2_sqrt = √(1 - β₂ᵗ) (``adam_step_coefficients``), the rest constant."""
    step_size, bias_correction2_sqrt = adam_step_coefficients(lr, beta1, beta2, step)
    return dict(decay=1 - lr * weight_decay if decoupled_weight_decay else 1.0,
                sign=-1.0 if maximize else 1.0,
                weight_decay=0.0 if decoupled_weight_decay else weight_decay,
                one_minus_beta1=1 - beta1, beta2=beta2, one_minus_beta2=1 - beta2,
                step_size=step_size, bias_correction2_sqrt=bias_correction2_sqrt, eps=eps)


def adam_step_coefficients(lr: float, beta1: float, beta2: float, step: int):
    """(lr·√(1 - β₂ᵗ)/(1 - β₁ᵗ), √(1 - β₂ᵗ)): Adam's step size and second bias correction
    at step t (from 1), for the update in one division,

        lr/(1 - β₁ᵗ) · m/(√v/√(1 - β₂ᵗ) + ε) = lr·√(1 - β₂ᵗ)/(1 - β₁ᵗ) · m/(√v + ε·√(1 - β₂ᵗ))

    (torch's form divides twice: a division costs as much as the rest of the element's update,
    and the two forms differ by rounding alone). libm's pow, in Python as in compiled code
    (``ffnn.compiler._fused_kernel`` compiles this function)."""
    correction2_sqrt = math.pow(1 - math.pow(beta2, step), 0.5)
    return lr * correction2_sqrt / (1 - math.pow(beta1, step)), correction2_sqrt


_ADAM_FLAGS = {amsgrad: {"has_max_exp_avg_sq": amsgrad} for amsgrad in (False, True)}
"""``ADAM_KERNEL``'s flags with and without AMSGrad (read-only)."""


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False, decoupled_weight_decay=False)``, as ``torch.optim.Adam``.

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq``).
    """

    def __init__(
        self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
        maximize: bool = False, decoupled_weight_decay: bool = False,
        foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
        fused: bool | None = None,
    ):
        check_implementation(type(self).__name__, differentiable)
        check_tensor_lr_foreach(lr, foreach, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_learning_rate(group["lr"])
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

    def fused_update(self, state, group, step: int):
        amsgrad = bool(group["amsgrad"])
        if amsgrad and "max_exp_avg_sq" not in state:
            return None  # AMSGrad switched on since the state was made: step() makes it
        beta1, beta2 = group["betas"]
        options = (learning_rate(group), beta1, beta2, group["eps"], group["weight_decay"],
                   group["maximize"], group["decoupled_weight_decay"])
        return ADAM_KERNEL, _ADAM_FLAGS[amsgrad], (
            state["exp_avg"], state["exp_avg_sq"], state["max_exp_avg_sq"] if amsgrad else None
        ), self._shared_scalars(step, options, lambda: adam_kernel_scalars(
            step=step, lr=options[0], beta1=beta1, beta2=beta2, eps=options[3],
            weight_decay=options[4], maximize=options[5], decoupled_weight_decay=options[6]))

    def _update(self, param, grad, state, group, scratch) -> None:
        state["step"] += 1
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp(param).zeros_like(param)
        beta1, beta2 = group["betas"]
        adam_update(
            param, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"),
            scratch, step=state["step"], lr=learning_rate(group), beta1=beta1, beta2=beta2,
            eps=group["eps"], weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
            maximize=group["maximize"], decoupled_weight_decay=group["decoupled_weight_decay"],
        )
