"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

``p ← p·(1 - lr·λ)``, then the Adam step on the raw gradient (no ``λ·p`` in ``g``).
"""

from __future__ import annotations

from collections.abc import Iterable

from ffnn.optim.adam import Adam


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False)``, as ``torch.optim.AdamW``."""

    def __init__(
        self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
        maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
        differentiable: bool = False, fused: bool | None = None,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True,
                         foreach=foreach, capturable=capturable,
                         differentiable=differentiable, fused=fused)
