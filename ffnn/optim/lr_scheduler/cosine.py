"""``CosineAnnealingLR`` (SGDR without restarts, Loshchilov & Hutter 2017), torch's recursion.

Closed form ``η_t = η_min + (η_base - η_min)(1 + cos(π t / T_max))/2``; :meth:`get_lr` uses
torch's recursive form, which multiplies the current lr, so outside changes carry on.
"""

from __future__ import annotations

import math

from ffnn.optim.lr_scheduler.base import LRScheduler, check_positive_int, warn_get_lr_outside_step
from ffnn.optim.optimizer import Optimizer


class CosineAnnealingLR(LRScheduler):
    """``CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1)``.

    ``η_t = η_min + (η_{t-1} - η_min)·(1 + cos(πt/T))/(1 + cos(π(t-1)/T))``; past ``T_max``
    the lr rises again (a cosine of period ``2·T_max``), as in torch.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1):
        check_positive_int("T_max", T_max)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        warn_get_lr_outside_step(self)
        groups = self.optimizer.param_groups
        t, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if (t - 1 - period) % (2 * period) == 0:  # the bottom: step up from η_min
            rise = (1 - math.cos(math.pi / period)) / 2
            return [group["lr"] + (base - low) * rise for base, group in zip(self.base_lrs, groups)]
        ratio_num = 1 + math.cos(math.pi * t / period)
        ratio_den = 1 + math.cos(math.pi * (t - 1) / period)
        return [ratio_num / ratio_den * (group["lr"] - low) + low for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * cosine / 2 for base in self.base_lrs]
