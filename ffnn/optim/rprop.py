"""Rprop (Riedmiller and Braun, 1993): each weight's own step size, grown while its gradient
keeps its sign and cut when the sign flips; only the gradient's sign moves the weight. Meant
for full-batch training, as torch's.

Per element, with p the previous step's gradient (0 at first) and s the step size (``lr`` at
first)::

    η = η₊ if g·p > 0, η₋ if g·p < 0, else 1
    s ← clamp(s·η, s_min, s_max)
    g ← 0 where η = η₋ (the step after a sign flip moves nothing)
    θ ← θ - sign(g)·s;  p ← g
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ffnn.backend import xp
from ffnn.optim.optimizer import (
    Optimizer,
    check_implementation,
    check_learning_rate,
    learning_rate,
)


class Rprop(Optimizer):
    """``Rprop(params, lr=0.01, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False)``,
    as ``torch.optim.Rprop``. State: ``step``, ``prev``, ``step_size``."""

    def __init__(self, params: Iterable, lr: float = 1e-2, etas: tuple = (0.5, 1.2),
                 step_sizes: tuple = (1e-6, 50), *, foreach: bool | None = None,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False):
        check_implementation(type(self).__name__, differentiable)
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                        maximize=maximize, foreach=foreach, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        check_learning_rate(group["lr"])
        minus, plus = group["etas"]
        if not 0.0 < minus < 1.0 < plus:
            raise ValueError(f"Invalid eta values: {minus}, {plus}")

    def _init_state(self, param, group) -> dict[str, Any]:
        module = xp(param)
        return {"step": 0, "prev": module.zeros_like(param),
                "step_size": module.full_like(param, learning_rate(group))}

    def _update(self, param, grad, state, group, scratch) -> None:
        state["step"] += 1
        minus, plus = (param.dtype.type(eta) for eta in group["etas"])
        low, high = group["step_sizes"]
        g = -grad if group["maximize"] else grad
        prev, step_size = state["prev"], state["step_size"]
        agreement = np.sign(g * prev)  # NaN stays NaN, as torch's
        one = param.dtype.type(1)
        eta = np.where(agreement > 0, plus,
                       np.where(agreement < 0, minus, np.where(agreement == 0, one, agreement)))
        step_size *= eta
        np.clip(step_size, low, high, out=step_size)
        g = np.where(eta == minus, param.dtype.type(0), g)
        param -= np.sign(g) * step_size
        prev[...] = g
