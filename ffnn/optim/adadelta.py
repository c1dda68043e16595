"""Adadelta (Zeiler, 2012): a step size from running averages of squared gradients and of
squared updates, so ``lr`` is only a scale (1.0 by default).

``v ← ρv + (1-ρ)g²``; ``Δ = √(u + ε) / √(v + ε) · g``; ``u ← ρu + (1-ρ)Δ²``; ``p ← p - lr·Δ``.
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


def adadelta_update(param, grad, square_avg, acc_delta, scratch, *, lr: float, rho: float,
                    eps: float, weight_decay: float, maximize: bool,
                    implementation: str = "auto") -> None:
    """One Adadelta step, in place on ``param``, ``square_avg`` (v) and ``acc_delta`` (u).
    ``implementation``: ``"reference"``, ``"compiled"`` or ``"auto"`` (``ffnn.optim._dispatch``).
    """
    update = _dispatch.pick("adadelta_update", implementation,
                            (param, grad, square_avg, acc_delta), scratch,
                            {"reference": _single_tensor_adadelta,
                             "compiled": _compiled_adadelta})
    update(param, grad, square_avg, acc_delta, scratch, lr=lr, rho=rho, eps=eps,
           weight_decay=weight_decay, maximize=maximize)


def _single_tensor_adadelta(param, grad, square_avg, acc_delta, scratch, *, lr: float,
                            rho: float, eps: float, weight_decay: float,
                            maximize: bool) -> None:
    """The reference, the operations in torch's order so float32 results agree to the last
    bit."""
    work, spare = scratch
    g = effective_grad(param, grad, weight_decay, maximize, work)
    square_avg *= rho
    np.multiply(g, g, out=spare)
    spare *= 1 - rho
    square_avg += spare
    np.add(acc_delta, eps, out=spare)
    np.sqrt(spare, out=spare)  # spare = √(u + ε)
    std = np.sqrt(square_avg + eps)
    spare /= std
    spare *= g  # spare = Δ
    acc_delta *= rho
    acc_delta += (1 - rho) * (spare * spare)
    spare *= -lr
    param += spare


ADADELTA_KERNEL = ElementwiseKernel(
    "adadelta", reads=("param", "grad", "square_avg", "acc_delta"),
    writes=("param", "square_avg", "acc_delta"),
    scalars=("lr", "rho", "one_minus_rho", "eps", "weight_decay", "sign"),
    flush_subnormals=True,
    body="""
    g = sign * grad + weight_decay * param
    square_avg = rho * square_avg + one_minus_rho * (g * g)
    delta = math.sqrt(acc_delta + eps) / math.sqrt(square_avg + eps) * g
    acc_delta = rho * acc_delta + one_minus_rho * (delta * delta)
    param = param - lr * delta
    """)
"""The Adadelta update on one element."""


def _compiled_adadelta(param, grad, square_avg, acc_delta, scratch, *, lr: float, rho: float,
                       eps: float, weight_decay: float, maximize: bool) -> None:
    """The formula in one generated compiled pass (``ADADELTA_KERNEL``); ``scratch`` unused."""
    ADADELTA_KERNEL(param=param, grad=grad, square_avg=square_avg, acc_delta=acc_delta,
                    **adadelta_kernel_scalars(lr=lr, rho=rho, eps=eps,
                                              weight_decay=weight_decay, maximize=maximize))


def adadelta_kernel_scalars(*, lr: float, rho: float, eps: float, weight_decay: float,
                            maximize: bool) -> dict[str, float]:
    """``ADADELTA_KERNEL``'s scalars."""
    return dict(lr=lr, rho=rho, one_minus_rho=1 - rho, eps=eps, weight_decay=weight_decay,
                sign=-1.0 if maximize else 1.0)


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``, as
    ``torch.optim.Adadelta``. State: ``step``, ``square_avg``, ``acc_delta``."""

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False):
        check_implementation(type(self).__name__, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_learning_rate(group["lr"])
        check_number("eps", group["eps"], "epsilon value")
        check_number("weight_decay", group["weight_decay"], "weight_decay value")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")

    def _init_state(self, param, group) -> dict[str, Any]:
        module = xp(param)
        return {"step": 0, "square_avg": module.zeros_like(param),
                "acc_delta": module.zeros_like(param)}

    def fused_update(self, state, group, step: int):
        options = (learning_rate(group), group["rho"], group["eps"], group["weight_decay"],
                   group["maximize"])
        return ADADELTA_KERNEL, NO_FLAGS, (state["square_avg"], state["acc_delta"]), \
            self._shared_scalars(0, options, lambda: adadelta_kernel_scalars(
                lr=options[0], rho=options[1], eps=options[2], weight_decay=options[3],
                maximize=options[4]))

    def _update(self, param, grad, state, group, scratch) -> None:
        state["step"] += 1
        adadelta_update(param, grad, state["square_avg"], state["acc_delta"], scratch,
                        lr=learning_rate(group), rho=group["rho"], eps=group["eps"],
                        weight_decay=group["weight_decay"], maximize=group["maximize"])
