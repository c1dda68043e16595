"""Adagrad (Duchi et al., 2011) with learning-rate decay and weight decay.

``s ← s + g²``; ``p ← p - lr/(1 + (t-1)·lr_decay) · g / (√s + ε)``.
Sibling updates: ``_single_tensor_adagrad`` (the reference) and ``_compiled_adagrad``
(generated from ``ADAGRAD_KERNEL``); ``adagrad_update`` dispatches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ffnn.backend import xp
from ffnn.kernels import ElementwiseKernel
from ffnn.optim import _dispatch
from ffnn.optim._grad import effective_grad
from ffnn.optim.optimizer import (
    NO_FLAGS,
    Optimizer,
    check_implementation,
    check_learning_rate,
    check_number,
    learning_rate,
)


def adagrad_update(
    param, grad, state_sum, scratch, *, step: int, lr: float, lr_decay: float,
    weight_decay: float, eps: float, maximize: bool, implementation: str = "auto",
) -> None:
    """One Adagrad step (``step`` counts from 1), in place on ``param`` and ``state_sum``.

    ``g = ±grad + λ·p``; ``s ← s + g²``; ``p ← p - clr · g / (√s + ε)``,
    ``clr = lr / (1 + (step-1)·lr_decay)``. ``scratch``: 2 arrays like ``p``.
    ``implementation``: ``"reference"``, ``"compiled"`` or ``"auto"`` (``ffnn.optim._dispatch``).
    """
    update = _dispatch.pick("adagrad_update", implementation, (param, grad, state_sum), scratch,
                            {"reference": _single_tensor_adagrad, "compiled": _compiled_adagrad})
    update(param, grad, state_sum, scratch, step=step, lr=lr, lr_decay=lr_decay,
           weight_decay=weight_decay, eps=eps, maximize=maximize)


def _single_tensor_adagrad(
    param, grad, state_sum, scratch, *, step: int, lr: float, lr_decay: float,
    weight_decay: float, eps: float, maximize: bool,
) -> None:
    """The reference: the formula as whole-array NumPy (or CuPy) passes, in place."""
    work, spare = scratch
    g = effective_grad(param, grad, weight_decay, maximize, work)
    np.multiply(g, g, out=spare)
    state_sum += spare
    np.sqrt(state_sum, out=spare)
    spare += eps
    np.divide(g, spare, out=spare)
    spare *= -lr / (1 + (step - 1) * lr_decay)
    param += spare


ADAGRAD_KERNEL = ElementwiseKernel(
    "adagrad", reads=("param", "grad", "state_sum"), writes=("param", "state_sum"),
    scalars=("clr", "eps", "weight_decay", "sign"),
    flush_subnormals=True,
    body="""
    g = sign * grad + weight_decay * param
    state_sum = state_sum + g * g
    param = param - clr * (g / (math.sqrt(state_sum) + eps))
    """)
"""The Adagrad update on one element (``clr``: the decayed learning rate)."""


def adagrad_kernel_scalars(*, step: int, lr: float, lr_decay: float, weight_decay: float,
                           eps: float, maximize: bool) -> dict[str, float]:
    """``ADAGRAD_KERNEL``'s scalars for step ``step``."""
    return dict(clr=lr / (1 + (step - 1) * lr_decay), eps=eps, weight_decay=weight_decay,
                sign=-1.0 if maximize else 1.0)


def _compiled_adagrad(
    param, grad, state_sum, scratch, *, step: int, lr: float, lr_decay: float,
    weight_decay: float, eps: float, maximize: bool,
) -> None:
    """The formula in one generated compiled pass (``ADAGRAD_KERNEL``); ``scratch`` unused."""
    ADAGRAD_KERNEL(param=param, grad=grad, state_sum=state_sum, **adagrad_kernel_scalars(
        step=step, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
        maximize=maximize))


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, *, maximize=False)``, as ``torch.optim.Adagrad``; state: ``step``, ``sum``."""

    def __init__(
        self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
        initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False,
        foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None,
    ):
        check_implementation(type(self).__name__, differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_learning_rate(group["lr"])
        check_number("lr_decay", group["lr_decay"], "lr_decay value")
        check_number("weight_decay", group["weight_decay"], "weight_decay value")
        check_number("initial_accumulator_value", group["initial_accumulator_value"],
                     "initial_accumulator_value value")
        check_number("eps", group["eps"], "epsilon value")

    def _init_state(self, param, group) -> dict[str, Any]:
        # the constructor's value for every group, as torch's (a group's own is ignored)
        state_sum = xp(param).full_like(param, self.defaults["initial_accumulator_value"])
        return {"step": 0, "sum": state_sum}

    def fused_update(self, state, group, step: int):
        options = (learning_rate(group), group["lr_decay"], group["weight_decay"], group["eps"],
                   group["maximize"])
        return ADAGRAD_KERNEL, NO_FLAGS, (state["sum"],), self._shared_scalars(
            step, options, lambda: adagrad_kernel_scalars(
                step=step, lr=options[0], lr_decay=options[1], weight_decay=options[2],
                eps=options[3], maximize=options[4]))

    def _update(self, param, grad, state, group, scratch) -> None:
        state["step"] += 1
        adagrad_update(
            param, grad, state["sum"], scratch, step=state["step"], lr=learning_rate(group),
            lr_decay=group["lr_decay"], weight_decay=group["weight_decay"], eps=group["eps"],
            maximize=group["maximize"],
        )
