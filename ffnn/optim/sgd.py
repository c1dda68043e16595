"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

``b ← μ·b + (1-τ)·g`` (``b = g`` on the first step); ``p ← p - lr·(g + μ·b if nesterov else b)``.
Sibling updates: ``_single_tensor_sgd`` (the reference) and ``_compiled_sgd`` (generated from
``SGD_KERNEL``); ``sgd_update`` dispatches.
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
    Optimizer,
    check_implementation,
    check_learning_rate,
    check_number,
    learning_rate,
)


def sgd_update(
    param, grad, momentum_buffer, scratch, *, lr: float, momentum: float, dampening: float,
    weight_decay: float, nesterov: bool, maximize: bool, first_step: bool,
    implementation: str = "auto",
) -> None:
    """One SGD step, in place on ``param`` and ``momentum_buffer`` (None when momentum is 0).

    ``g = ±grad + λ·p``; ``b ← μ·b + (1-τ)·g`` (``b ← g`` when ``first_step``);
    ``d = g + μ·b`` (Nesterov) or ``b``; ``p ← p - lr·d``. ``scratch``: 2 arrays like ``p``.
    ``implementation``: ``"reference"``, ``"compiled"`` or ``"auto"``
    (``ffnn.optim._dispatch``); raises ValueError for one that cannot take the arrays.
    """
    arrays = (param, grad, *((momentum_buffer,) if momentum != 0 else ()))
    update = _dispatch.pick("sgd_update", implementation, arrays, scratch,
                            {"reference": _single_tensor_sgd, "compiled": _compiled_sgd},
                            min_size=_COMPILED_MIN_SIZE)
    update(param, grad, momentum_buffer, scratch, lr=lr, momentum=momentum,
           dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
           maximize=maximize, first_step=first_step)


_COMPILED_MIN_SIZE = 1 << 12
"""Below this, plain SGD's two NumPy passes are as quick as a kernel call."""


def _single_tensor_sgd(
    param, grad, momentum_buffer, scratch, *, lr: float, momentum: float, dampening: float,
    weight_decay: float, nesterov: bool, maximize: bool, first_step: bool,
) -> None:
    """The reference: the formula as whole-array NumPy (or CuPy) passes, in place."""
    work, spare = scratch
    g = effective_grad(param, grad, weight_decay, maximize, work)
    if momentum != 0:
        if first_step:
            momentum_buffer[...] = g
        else:
            momentum_buffer *= momentum
            np.multiply(g, 1 - dampening, out=spare)
            momentum_buffer += spare
        if nesterov:
            np.multiply(momentum_buffer, momentum, out=spare)
            np.add(g, spare, out=spare)
            g = spare
        else:
            g = momentum_buffer
    np.multiply(g, -lr, out=spare)
    param += spare


SGD_KERNEL = ElementwiseKernel(
    "sgd", reads=("param", "grad", "momentum_buffer"), writes=("param", "momentum_buffer"),
    optional=("momentum_buffer",), flags=("nesterov",),
    scalars=("lr", "momentum", "one_minus_dampening", "weight_decay", "sign", "first_step"),
    flush_subnormals=True,
    body="""
    g = sign * grad + weight_decay * param
    if has_momentum_buffer:
        if first_step:
            momentum_buffer = g
        else:
            momentum_buffer = momentum * momentum_buffer + one_minus_dampening * g
        g = g + momentum * momentum_buffer if nesterov else momentum_buffer
    param = param - lr * g
    """)
"""The SGD update on one element (no ``momentum_buffer``: plain SGD). ``first_step`` is a
number (1 or 0), not a flag: both steps run one compiled variant."""


def _compiled_sgd(
    param, grad, momentum_buffer, scratch, *, lr: float, momentum: float, dampening: float,
    weight_decay: float, nesterov: bool, maximize: bool, first_step: bool,
) -> None:
    """The formula in one generated compiled pass (``SGD_KERNEL``); ``scratch`` unused."""
    SGD_KERNEL(param=param, grad=grad, momentum_buffer=momentum_buffer if momentum else None,
               nesterov=nesterov, **sgd_kernel_scalars(
                   lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                   maximize=maximize, first_step=first_step))


def sgd_kernel_scalars(*, lr: float, momentum: float, dampening: float, weight_decay: float,
                       maximize: bool, first_step: bool) -> dict[str, float]:
    """``SGD_KERNEL``'s scalars, by name."""
    return dict(lr=lr, momentum=momentum, one_minus_dampening=1 - dampening,
                weight_decay=weight_decay, sign=-1.0 if maximize else 1.0,
                first_step=first_step)


_SGD_FLAGS = {(nesterov, momentum): {"nesterov": nesterov, "has_momentum_buffer": momentum}
              for nesterov in (False, True) for momentum in (False, True)}
"""``SGD_KERNEL``'s flags by (nesterov, has a momentum buffer) (read-only)."""


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False)``, as ``torch.optim.SGD``; state: ``momentum_buffer`` when momentum > 0."""

    def __init__(
        self, params: Iterable, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
        weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
        foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None,
    ):
        check_implementation(type(self).__name__, differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_learning_rate(group["lr"])
        check_number("momentum", group["momentum"], "momentum value")
        check_number("weight_decay", group["weight_decay"], "weight_decay value")
        check_number("dampening", group["dampening"], "dampening value", low=-np.inf)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening. Received: "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def fused_update(self, state, group, step: int):
        momentum = group["momentum"]
        if momentum != 0 and "momentum_buffer" not in state:
            return None  # the first step with momentum makes the buffer: step() runs
        options = (learning_rate(group), momentum, group["dampening"], group["weight_decay"],
                   group["maximize"])
        return SGD_KERNEL, _SGD_FLAGS[bool(group["nesterov"]), momentum != 0], (
            state["momentum_buffer"] if momentum != 0 else None,), self._shared_scalars(
            step, options, lambda: sgd_kernel_scalars(
                lr=options[0], momentum=options[1], dampening=options[2],
                weight_decay=options[3], maximize=options[4], first_step=False))

    def _update(self, param, grad, state, group, scratch) -> None:
        first_step = group["momentum"] != 0 and "momentum_buffer" not in state
        if first_step:
            state["momentum_buffer"] = xp(param).empty_like(param)
        sgd_update(
            param, grad, state.get("momentum_buffer"), scratch, lr=learning_rate(group),
            momentum=group["momentum"], dampening=group["dampening"],
            weight_decay=group["weight_decay"], nesterov=group["nesterov"],
            maximize=group["maximize"], first_step=first_step,
        )
