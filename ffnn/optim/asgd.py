"""Averaged SGD (Polyak and Juditsky, 1992), as ``torch.optim.ASGD``: SGD with a decaying
step size η and a running average ``ax`` of the weights, which becomes their mean once
the step count passes t0 (the average is the model to use; the weights train on).

Per step t (from 1), with λ the decay, g the gradient (+ weight_decay·θ)::

    θ ← θ·(1 − λη) − η·g
    ax ← ax + μ·(θ − ax)   (ax ← θ while μ = 1)
    η ← lr / (1 + λ·lr·t)^α,   μ ← 1 / max(1, t − t0)

η and μ are held in the optimizer's scalar dtype (float32 unless the default dtype is
float64), as torch holds them in 0-d tensors, so the steps round as torch's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ffnn.backend import xp
from ffnn.optim.adam_variants import _scalar_dtype
from ffnn.optim.optimizer import (
    Optimizer,
    check_implementation,
    check_learning_rate,
    check_number,
    learning_rate,
)


class ASGD(Optimizer):
    """``ASGD(params, lr=0.01, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, *,
    maximize=False)``. State: ``step``, ``eta``, ``mu``, ``ax``."""

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check_implementation(type(self).__name__, differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_learning_rate(group["lr"])
        check_number("weight_decay", group["weight_decay"], "weight_decay value")

    def _init_state(self, param, group) -> dict[str, Any]:
        return {"step": 0, "eta": float(_scalar_dtype()(learning_rate(group))), "mu": 1.0,
                "ax": xp(param).zeros_like(param)}

    def _update(self, param, grad, state, group, scratch) -> None:
        g = -grad if group["maximize"] else grad
        state["step"] += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * param
        eta, mu = state["eta"], state["mu"]
        param *= 1 - group["lambd"] * eta
        param -= eta * g
        ax = state["ax"]
        if mu != 1:
            ax += (param - ax) * mu
        else:
            ax[...] = param
        scalar, step, lr = _scalar_dtype(), state["step"], learning_rate(group)
        state["eta"] = float(scalar(lr / ((1 + group["lambd"] * lr * step) ** group["alpha"])))
        state["mu"] = float(scalar(1 / max(1, step - group["t0"])))
