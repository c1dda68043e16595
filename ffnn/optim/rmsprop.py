"""RMSprop (Hinton, 2012) with momentum, centering and weight decay.

``v ← αv + (1-α)g²``; ``p ← p - lr · g / (√(v - ḡ²) + ε)`` (``ḡ²`` term only when centered).
Sibling updates: ``_single_tensor_rmsprop`` (the reference) and ``_compiled_rmsprop``
(generated from ``RMSPROP_KERNEL``); ``rmsprop_update`` dispatches.
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


def rmsprop_update(
    param, grad, square_avg, grad_avg, momentum_buffer, scratch, *, lr: float, alpha: float,
    eps: float, weight_decay: float, momentum: float, centered: bool, maximize: bool,
    implementation: str = "auto",
) -> None:
    """One RMSprop step, in place on ``param`` and the state arrays.

    ``g = ±grad + λ·p``; ``v ← αv + (1-α)g²``; centered: ``ḡ ← αḡ + (1-α)g``, ``s = √(v-ḡ²)+ε``
    else ``s = √v+ε``; momentum: ``b ← μb + g/s``, ``p ← p - lr·b``; else ``p ← p - lr·g/s``.
    ``implementation``: ``"reference"``, ``"compiled"`` or ``"auto"`` (``ffnn.optim._dispatch``).
    """
    arrays = (param, grad, square_avg, *((grad_avg,) if centered else ()),
              *((momentum_buffer,) if momentum > 0 else ()))
    update = _dispatch.pick("rmsprop_update", implementation, arrays, scratch,
                            {"reference": _single_tensor_rmsprop, "compiled": _compiled_rmsprop})
    update(param, grad, square_avg, grad_avg, momentum_buffer, scratch, lr=lr, alpha=alpha,
           eps=eps, weight_decay=weight_decay, momentum=momentum, centered=centered,
           maximize=maximize)


def _single_tensor_rmsprop(
    param, grad, square_avg, grad_avg, momentum_buffer, scratch, *, lr: float, alpha: float,
    eps: float, weight_decay: float, momentum: float, centered: bool, maximize: bool,
) -> None:
    """The reference: the formula as whole-array NumPy (or CuPy) passes, in place."""
    work, spare = scratch
    g = effective_grad(param, grad, weight_decay, maximize, work)
    square_avg *= alpha
    np.multiply(g, g, out=spare)
    spare *= 1 - alpha
    square_avg += spare
    if centered:
        np.subtract(g, grad_avg, out=spare)  # ḡ ← ḡ + (1-α)(g - ḡ), torch's lerp
        spare *= 1 - alpha
        grad_avg += spare
        np.multiply(grad_avg, grad_avg, out=spare)
        np.subtract(square_avg, spare, out=spare)
        np.sqrt(spare, out=spare)
    else:
        np.sqrt(square_avg, out=spare)
    spare += eps
    np.divide(g, spare, out=spare)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += spare
        np.multiply(momentum_buffer, -lr, out=spare)
    else:
        spare *= -lr
    param += spare


RMSPROP_KERNEL = ElementwiseKernel(
    "rmsprop", reads=("param", "grad", "square_avg", "grad_avg", "momentum_buffer"),
    writes=("param", "square_avg", "grad_avg", "momentum_buffer"),
    optional=("grad_avg", "momentum_buffer"),
    scalars=("lr", "alpha", "one_minus_alpha", "eps", "weight_decay", "momentum", "sign"),
    flush_subnormals=True,
    body="""
    g = sign * grad + weight_decay * param
    square_avg = alpha * square_avg + one_minus_alpha * (g * g)
    if has_grad_avg:
        grad_avg = grad_avg + one_minus_alpha * (g - grad_avg)
        step = g / (math.sqrt(square_avg - grad_avg * grad_avg) + eps)
    else:
        step = g / (math.sqrt(square_avg) + eps)
    if has_momentum_buffer:
        momentum_buffer = momentum * momentum_buffer + step
        step = momentum_buffer
    param = param - lr * step
    """)
"""The RMSprop update on one element (``grad_avg`` when centered, a buffer with momentum)."""


def _compiled_rmsprop(
    param, grad, square_avg, grad_avg, momentum_buffer, scratch, *, lr: float, alpha: float,
    eps: float, weight_decay: float, momentum: float, centered: bool, maximize: bool,
) -> None:
    """The formula in one generated compiled pass (``RMSPROP_KERNEL``); ``scratch`` unused."""
    RMSPROP_KERNEL(param=param, grad=grad, square_avg=square_avg,
                   grad_avg=grad_avg if centered else None,
                   momentum_buffer=momentum_buffer if momentum > 0 else None,
                   **rmsprop_kernel_scalars(lr=lr, alpha=alpha, eps=eps,
                                            weight_decay=weight_decay, momentum=momentum,
                                            maximize=maximize))


def rmsprop_kernel_scalars(*, lr: float, alpha: float, eps: float, weight_decay: float,
                           momentum: float, maximize: bool) -> dict[str, float]:
    """``RMSPROP_KERNEL``'s scalars."""
    return dict(lr=lr, alpha=alpha, one_minus_alpha=1 - alpha, eps=eps,
                weight_decay=weight_decay, momentum=momentum, sign=-1.0 if maximize else 1.0)


_RMSPROP_FLAGS = {(centered, momentum): {"has_grad_avg": centered,
                                          "has_momentum_buffer": momentum}
                  for centered in (False, True) for momentum in (False, True)}
"""``RMSPROP_KERNEL``'s flags by (centered, has a momentum buffer) (read-only)."""


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, *, maximize=False)``, as ``torch.optim.RMSprop``.

    State: ``step``, ``square_avg`` (and ``momentum_buffer``, ``grad_avg`` when used).
    """

    def __init__(
        self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
        weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
        maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
        differentiable: bool = False,
    ):
        check_implementation(type(self).__name__, differentiable)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_learning_rate(group["lr"])
        check_number("eps", group["eps"], "epsilon value")
        check_number("momentum", group["momentum"], "momentum value")
        check_number("weight_decay", group["weight_decay"], "weight_decay value")
        check_number("alpha", group["alpha"], "alpha value")
        if group["alpha"] > 1:  # 1 - alpha < 0 would make square_avg negative (NaN steps)
            raise ValueError(f"Invalid alpha value: {group['alpha']} (expected 0 <= alpha <= 1)")

    def _init_state(self, param, group) -> dict[str, Any]:
        module = xp(param)
        state = {"step": 0, "square_avg": module.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = module.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = module.zeros_like(param)
        return state

    def fused_update(self, state, group, step: int):
        centered, momentum = bool(group["centered"]), group["momentum"] > 0
        if centered and "grad_avg" not in state or momentum and "momentum_buffer" not in state:
            return None  # options changed since the state was made: step() says so
        arrays = (state["square_avg"], state["grad_avg"] if centered else None,
                  state["momentum_buffer"] if momentum else None)
        options = (learning_rate(group), group["alpha"], group["eps"], group["weight_decay"],
                   group["momentum"], group["maximize"])
        return RMSPROP_KERNEL, _RMSPROP_FLAGS[centered, momentum], arrays, \
            self._shared_scalars(0, options, lambda: rmsprop_kernel_scalars(
                lr=options[0], alpha=options[1], eps=options[2], weight_decay=options[3],
                momentum=options[4], maximize=options[5]))

    def _update(self, param, grad, state, group, scratch) -> None:
        state["step"] += 1
        rmsprop_update(
            param, grad, state["square_avg"], state.get("grad_avg"),
            state.get("momentum_buffer"), scratch, lr=learning_rate(group), alpha=group["alpha"],
            eps=group["eps"], weight_decay=group["weight_decay"], momentum=group["momentum"],
            centered=group["centered"], maximize=group["maximize"],
        )
