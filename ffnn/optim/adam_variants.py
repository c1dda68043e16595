"""Adam's variants, as torch.optim has them (the operations in torch's order, but NAdam's
and RAdam's step in one division an element: ``ffnn.optim.adam_variant_kernels``):

* Adamax: ``m ← β₁m + (1-β₁)g``, ``u ← max(β₂u, |g| + ε)``, ``p ← p − lr/(1-β₁ᵗ) · m/u``;
* NAdam (Dozat, 2016): Nesterov momentum in Adam, with momentum schedule
  ``μₜ = β₁(1 − ½·0.96^{t·ψ})``: ``p ← p − lr(1-μₜ)/(1-Πμ)·g/d − lr·μₜ₊₁/(1-Πμ·μₜ₊₁)·m/d``,
  ``d = √(v/(1-β₂ᵗ)) + ε``;
* RAdam (Liu et al., 2020): Adam with the variance rectified by
  ``r = √((ρₜ−4)(ρₜ−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρₜ))`` once ``ρₜ > 5``, plain momentum SGD before.

Each update is one generated compiled pass where ``ffnn.accel`` takes the arrays (the
kernels of ``ffnn.optim.adam_variant_kernels``, also in the multi-tensor and fused steps,
through ``fused_update``; NAdam's Πμ advances after its kernel, ``_fused_step_taken``),
else the NumPy passes below, the reference.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ffnn import dtypes
from ffnn.backend import xp
from ffnn.optim import _dispatch
from ffnn.optim._grad import effective_grad
from ffnn.optim.adam_variant_kernels import (
    ADAMAX_KERNEL,
    NADAM_KERNEL,
    RADAM_KERNEL,
    adamax_kernel_scalars,
    nadam_kernel_scalars,
    radam_kernel_scalars,
)
from ffnn.optim.optimizer import (
    NO_FLAGS,
    Optimizer,
    check_implementation,
    check_learning_rate,
    check_number,
    learning_rate,
)


def _scalar_dtype():
    """float64 when it is the default dtype, else float32 (torch's optimizer scalars)."""
    return np.float64 if dtypes.get_default_dtype() == np.float64 else np.float32


def _check_adam_like(group: dict[str, Any]) -> None:
    check_learning_rate(group["lr"])
    check_number("eps", group["eps"], "epsilon value")
    check_number("weight_decay", group["weight_decay"], "weight_decay value")
    for i, beta in enumerate(group["betas"]):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def _moments(param, group) -> dict[str, Any]:
    module = xp(param)
    return {"step": 0, "exp_avg": module.zeros_like(param), "exp_avg_sq": module.zeros_like(param)}


def _grad(param, grad, group, work, decoupled: bool):
    """The gradient with weight decay (coupled), or the parameter shrunk first (decoupled)."""
    if decoupled and group["weight_decay"] != 0:
        param *= 1 - learning_rate(group) * group["weight_decay"]
        return effective_grad(param, grad, 0.0, group["maximize"], work)
    return effective_grad(param, grad, group["weight_decay"], group["maximize"], work)


def _first_and_second_moments(exp_avg, exp_avg_sq, g, beta1: float, beta2: float) -> None:
    exp_avg += (g - exp_avg) * (1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * (g * g)


def _compiles(param, grad, state_arrays: tuple, scratch) -> bool:
    """Whether the update runs its compiled kernel on these arrays (``_dispatch.choose``)."""
    return _dispatch.choose((param, grad, *state_arrays), scratch, blocked=False) == "compiled"


def _compiled_update(update: tuple, param, grad) -> None:
    """Run ``(kernel, flags, state arrays, scalars)`` (a ``fused_update``) on one parameter:
    the per-parameter compiled path."""
    kernel, flags, arrays, scalars = update
    kernel(param=param, grad=grad, **dict(zip(kernel.arrays[2:], arrays)), **flags, **scalars)


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
    maximize=False)``; state: ``step``, ``exp_avg``, ``exp_inf``."""

    def __init__(self, params: Iterable, lr: float = 2e-3, betas=(0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False):
        check_implementation(type(self).__name__, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _check_group(self, group) -> None:
        _check_adam_like(group)

    def _init_state(self, param, group) -> dict[str, Any]:
        module = xp(param)
        return {"step": 0, "exp_avg": module.zeros_like(param),
                "exp_inf": module.zeros_like(param)}

    def fused_update(self, state, group, step: int):
        options = (learning_rate(group), group["betas"], group["eps"], group["weight_decay"],
                   group["maximize"])
        return ADAMAX_KERNEL, NO_FLAGS, (state["exp_avg"], state["exp_inf"]), \
            self._shared_scalars(step, options, lambda: adamax_kernel_scalars(
                step=step, lr=options[0], betas=options[1], eps=options[2],
                weight_decay=options[3], maximize=options[4]))

    def _update(self, param, grad, state, group, scratch) -> None:
        beta1, beta2 = group["betas"]
        state["step"] += 1
        if _compiles(param, grad, (state["exp_avg"], state["exp_inf"]), scratch):
            _compiled_update(self.fused_update(state, group, state["step"]), param, grad)
            return
        g = _grad(param, grad, group, scratch[0], decoupled=False)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg += (g - exp_avg) * (1 - beta1)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(g) + group["eps"], out=exp_inf)
        step_size = learning_rate(group) / (1 - beta1 ** state["step"])
        param -= step_size * (exp_avg / exp_inf)


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False)``; state:
    ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``."""

    def __init__(self, params: Iterable, lr: float = 2e-3, betas=(0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False):
        check_implementation(type(self).__name__, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _check_group(self, group) -> None:
        _check_adam_like(group)
        check_number("momentum_decay", group["momentum_decay"], "momentum_decay value")

    def _init_state(self, param, group) -> dict[str, Any]:
        return {**_moments(param, group), "mu_product": 1.0}

    def fused_update(self, state, group, step: int):
        options = (learning_rate(group), group["betas"], group["eps"], group["weight_decay"],
                   group["decoupled_weight_decay"], group["maximize"],
                   group["momentum_decay"], state["mu_product"])
        return NADAM_KERNEL, NO_FLAGS, (state["exp_avg"], state["exp_avg_sq"]), \
            self._shared_scalars(step, options, lambda: nadam_kernel_scalars(
                step=step, lr=options[0], betas=options[1], eps=options[2],
                weight_decay=options[3], decoupled_weight_decay=options[4],
                maximize=options[5], steps=nadam_steps(options[7], step, group)[1:]))

    def _fused_step_taken(self, state, group) -> None:
        """The step count + 1 and Πμ advanced; the parameters of a step share one Πμ object
        (computed once), so that ``_shared_scalars`` finds their options the same."""
        state["step"] += 1
        key = (state["mu_product"], state["step"], group["betas"][0], group["momentum_decay"],
               _scalar_dtype())
        last = self.__dict__.get("_last_mu_product")
        if last is None or last[0] != key:
            last = self._last_mu_product = (
                key, nadam_steps(state["mu_product"], state["step"], group)[0])
        state["mu_product"] = last[1]

    def _update(self, param, grad, state, group, scratch) -> None:
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if _compiles(param, grad, (exp_avg, exp_avg_sq), scratch):
            _compiled_update(self.fused_update(state, group, state["step"] + 1), param, grad)
            self._fused_step_taken(state, group)
            return
        state["step"] += 1
        step = state["step"]
        state["mu_product"], grad_step, avg_step = nadam_steps(state["mu_product"], step, group)
        g = _grad(param, grad, group, scratch[0], group["decoupled_weight_decay"])
        _first_and_second_moments(exp_avg, exp_avg_sq, g, beta1, beta2)
        correction2_sqrt = math.sqrt(1 - beta2 ** step)  # as NADAM_KERNEL: one division
        denom = np.sqrt(exp_avg_sq) + group["eps"] * correction2_sqrt
        param += (grad_step * correction2_sqrt * g
                  + avg_step * correction2_sqrt * exp_avg) / denom


def nadam_steps(mu_product: float, step: int, group: dict) -> tuple[float, float, float]:
    """(Πμ up to μₜ, NAdam's two step sizes at ``step``: ``-lr(1-μₜ)/(1-Πμ)`` for g/d and
    ``-lr·μₜ₊₁/(1-Πμ·μₜ₊₁)`` for m/d), from ``mu_product``, Πμ up to μₜ₋₁. Πμ is rounded
    to the default dtype, as torch keeps it in a tensor; Πμ·μₜ₊₁ is a float64 product, as
    torch's ``mu_product.item() * mu_next``."""
    beta1, _ = group["betas"]
    lr, decay = learning_rate(group), group["momentum_decay"]
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
    scalar = _scalar_dtype()
    product = float(scalar(mu_product) * scalar(mu))
    product_next = product * mu_next  # a Python float in torch's too
    return product, -lr * (1.0 - mu) / (1.0 - product), (-lr * mu_next) / (1.0 - product_next)


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, maximize=False)``; state: ``step``, ``exp_avg``,
    ``exp_avg_sq``."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas=(0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False):
        check_implementation(type(self).__name__, differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _check_group(self, group) -> None:
        _check_adam_like(group)

    def _init_state(self, param, group) -> dict[str, Any]:
        return _moments(param, group)

    def fused_update(self, state, group, step: int):
        options = (learning_rate(group), group["betas"], group["eps"], group["weight_decay"],
                   group["decoupled_weight_decay"], group["maximize"])
        return RADAM_KERNEL, NO_FLAGS, (state["exp_avg"], state["exp_avg_sq"]), \
            self._shared_scalars(step, options, lambda: radam_kernel_scalars(
                step=step, lr=options[0], betas=options[1], eps=options[2],
                weight_decay=options[3], decoupled_weight_decay=options[4],
                maximize=options[5]))

    def _update(self, param, grad, state, group, scratch) -> None:
        beta1, beta2 = group["betas"]
        lr = learning_rate(group)
        state["step"] += 1
        step = state["step"]
        if _compiles(param, grad, (state["exp_avg"], state["exp_avg_sq"]), scratch):
            _compiled_update(self.fused_update(state, group, step), param, grad)
            return
        g = _grad(param, grad, group, scratch[0], group["decoupled_weight_decay"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _first_and_second_moments(exp_avg, exp_avg_sq, g, beta1, beta2)
        scalars = radam_kernel_scalars(  # as RADAM_KERNEL: m·(a + b/(√v + ε))
            step=step, lr=lr, betas=group["betas"], eps=group["eps"], weight_decay=0.0,
            decoupled_weight_decay=False, maximize=False)
        param -= exp_avg * (scalars["plain_lr"] + scalars["adaptive_lr"]
                            / (np.sqrt(exp_avg_sq) + group["eps"]))
