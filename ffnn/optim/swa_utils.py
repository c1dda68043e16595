"""``torch.optim.swa_utils``: averages of a model's weights over training, with torch's
formulas and names.

Stochastic weight averaging (SWA, Izmailov et al. 2018) keeps the running mean of the weights
seen at each ``update_parameters(model)``: w̄₁ = w₁, then w̄ₙ₊₁ = w̄ₙ + (w − w̄ₙ)/(n + 1),
n the updates so far (``n_averaged``). An exponential moving average (EMA) keeps instead
w̄ ← decay·w̄ + (1 − decay)·w (``get_ema_avg_fn``), or w̄ ← lerp(w̄, w, 1 − decay)
(``get_ema_multi_avg_fn``); its first update is a copy too. ``SWALR`` anneals each group's
learning rate from its value to ``swa_lr`` over ``anneal_epochs`` steps (cosine or linear)
and holds it there; ``update_bn`` recomputes batch norms' running statistics for the
averaged weights with one pass over the data.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable
from typing import Any

from ffnn import creation, dtypes
from ffnn.autograd import no_grad
from ffnn.nn.module import Module
from ffnn.nn.normalization import BatchNorm1d
from ffnn.optim.lr_scheduler.base import LRScheduler, per_group, warn_get_lr_outside_step

_ANNEALS = ("cos", "linear")


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """EMA over lists of tensors: w̄ ← lerp(w̄, w, 1 − decay) in place (float tensors), or
    w̄·decay + w·(1 − decay) for others."""
    _check_decay(decay)

    def ema_update(ema_param_list: list, current_param_list: list, _) -> None:
        with no_grad():
            for ema, current in zip(ema_param_list, current_param_list):
                if ema.is_floating_point() or ema.is_complex():
                    ema.lerp_(current, 1 - decay)
                else:
                    ema.copy_(ema * decay + current * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """SWA over lists of tensors: w̄ ← lerp(w̄, w, 1/(n + 1)) in place (float tensors, the
    weight as torch rounds it), or w̄ + (w − w̄)/(n + 1) for others."""

    def swa_update(averaged_param_list: list, current_param_list: list, num_averaged) -> None:
        with no_grad():
            for averaged, current in zip(averaged_param_list, current_param_list):
                if averaged.is_floating_point() or averaged.is_complex():
                    averaged.lerp_(current, float(1 / (num_averaged + 1)))
                else:
                    averaged.add_((current - averaged) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """EMA of one tensor: decay·w̄ + (1 − decay)·w."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """SWA of one tensor: w̄ + (w − w̄)/(n + 1)."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose weights are the average of ``model``'s over training
    (``update_parameters``): SWA's running mean by default, or ``avg_fn(w̄, w, n)`` per
    tensor, or ``multi_avg_fn(w̄s, ws, n)`` per dtype (``get_ema_multi_avg_fn``: an EMA);
    ``n_averaged`` (a buffer) counts the updates; ``use_buffers`` averages the buffers too
    (else they are copied from ``model``)."""

    def __init__(self, model, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError("AveragedModel: model must be an ffnn.nn.Module. Received: "
                            f"{type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", creation.tensor(0, dtype=dtypes.long))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model) -> None:
        """Average ``model``'s parameters (and buffers, with ``use_buffers``) into this copy's:
        a copy at the first call, then ``avg_fn`` per tensor or ``multi_avg_fn`` per dtype
        (default: SWA's running mean); buffers not averaged are copied."""
        with no_grad():
            mine = list(itertools.chain(self.module.parameters(), self.module.buffers())
                        if self.use_buffers else self.parameters())
            theirs = list(itertools.chain(model.parameters(), model.buffers())
                          if self.use_buffers else model.parameters())
            pairs = [(a.detach(), p.detach()) for a, p in zip(mine, theirs)]
            if int(self.n_averaged) == 0:
                for averaged, current in pairs:
                    averaged.copy_(current)
            elif self.avg_fn is not None:
                for averaged, current in pairs:
                    averaged.copy_(self.avg_fn(averaged, current, self.n_averaged))
            else:
                self._average_by_dtype(pairs)
            if not self.use_buffers:
                for kept, current in zip(self.module.buffers(), model.buffers()):
                    kept.detach().copy_(current.detach())
            self.n_averaged += 1

    def _average_by_dtype(self, pairs: list) -> None:
        """``multi_avg_fn`` on each dtype's tensors, or SWA's running mean per tensor."""
        if self.multi_avg_fn is None:
            swa = get_swa_avg_fn()
            for averaged, current in pairs:
                averaged.copy_(swa(averaged, current, self.n_averaged))
            return
        groups: dict[Any, tuple[list, list]] = {}
        for averaged, current in pairs:
            mine, theirs = groups.setdefault(averaged.dtype, ([], []))
            mine.append(averaged)
            theirs.append(current)
        for mine, theirs in groups.values():
            self.multi_avg_fn(mine, theirs, self.n_averaged)


def update_bn(loader: Iterable, model, device=None) -> None:
    """Each batch norm's running statistics recomputed over one pass of ``loader`` (a batch
    is a tensor, or a list/tuple whose first element is): reset, then a cumulative average
    (momentum None) in training mode; momenta and mode restored after."""
    with no_grad():
        momenta = {}
        for module in model.modules():
            if isinstance(module, BatchNorm1d):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            model(batch if device is None else batch.to(device))
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Each group's learning rate annealed from its value to ``swa_lr`` over
    ``anneal_epochs`` steps, α = (1 − cos πt)/2 (``"cos"``) or t (``"linear"``),
    t = step/anneal_epochs clipped to [0, 1]: lr ← swa_lr·α + lr₀·(1 − α), lr₀ recovered from
    the previous step's lr (torch's formula); then ``swa_lr``."""

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        for value, group in zip(per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in _ANNEALS:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or \
                anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self._anneal_strategy, self.anneal_epochs = anneal_strategy, anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[float]:
        warn_get_lr_outside_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]


__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]
