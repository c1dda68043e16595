"""``LRScheduler``: the base of the learning-rate schedules, as ``torch.optim.lr_scheduler``.

A scheduler owns ``last_epoch`` (steps taken, -1 before the first) and ``base_lrs`` (each
group's ``initial_lr``); ``step()`` advances ``last_epoch`` and writes ``get_lr()`` into
``group["lr"]``. Its ``state_dict()`` holds only JSON-able values.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any

from ffnn.optim.optimizer import Optimizer
from ffnn.tensor import Tensor


def check_optimizer(optimizer: Any) -> Optimizer:
    """Return ``optimizer``, or raise TypeError when it is not an ``ffnn.optim.Optimizer``."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizer must be an ffnn.optim.Optimizer. "
            f"Received: {type(optimizer).__name__} is not an Optimizer"
        )
    return optimizer


def per_group(name: str, optimizer: Optimizer, value: Any) -> list:
    """``value`` once per parameter group (a list/tuple must already have one per group)."""
    count = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"expected {count} values for {name}, got {len(value)}")
        return list(value)
    return [value] * count


def _copy(value: Any) -> Any:
    return value.clone() if isinstance(value, Tensor) else value


def group_values(optimizer: Optimizer, key: str) -> list:
    """Each group's ``key``, a tensor (a tensor lr) as a copy: never the group's own, which
    the next step fills (torch's ``_param_groups_val_list``)."""
    return [_copy(group[key]) for group in optimizer.param_groups]


def set_group_value(group: dict[str, Any], key: str, value: Any) -> None:
    """``group[key] = value``, but a tensor there (a tensor lr) is filled with the value in
    place, so the optimizer's tensor stays the one it was given (torch's
    ``_update_param_group_val``)."""
    held = group[key]
    if isinstance(held, Tensor):
        held.fill_(value.reshape(()) if isinstance(value, Tensor) else value)
    else:
        group[key] = value


def check_positive_int(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is an int > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


def check_non_negative_int(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0. Received: {name}={value!r}")


def check_factor(name: str, value: Any) -> None:
    """Raise unless ``value`` is a finite real number >= 0 (a negative ``gamma`` would make
    the learning rate negative: the optimizer would climb the loss)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number. Received: {name}={value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0. Received: {name}={value!r}")


EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available.")
"""torch's warning for ``scheduler.step(epoch)``."""


def warn_epoch_deprecated() -> None:
    warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=3)


def warn_get_lr_outside_step(scheduler: LRScheduler) -> None:
    """torch's warning when a user calls ``get_lr()`` (the next rate, computed) instead of
    ``get_last_lr()``; silent inside ``step()`` (``computing_lr``)."""
    if not scheduler._get_lr_called_within_step:
        warnings.warn("To get the last learning rate computed by the scheduler, please use "
                      "`get_last_lr()`.", UserWarning, stacklevel=3)


class computing_lr:  # noqa: N801 - torch's _enable_get_lr_call, a context manager
    """Within ``step()``: ``get_lr()`` is the scheduler's own call (no warning)."""

    def __init__(self, scheduler: LRScheduler):
        self.scheduler = scheduler

    def __enter__(self) -> LRScheduler:
        self.scheduler._get_lr_called_within_step = True
        return self.scheduler

    def __exit__(self, *exc) -> None:
        self.scheduler._get_lr_called_within_step = False


class LRScheduler:
    """Base class: ``LRScheduler(optimizer, last_epoch=-1)``; subclasses define :meth:`get_lr`.

    Construction sets ``group["initial_lr"]`` (when ``last_epoch == -1``) and takes the first
    step, so ``last_epoch`` is 0 and ``group["lr"]`` the schedule's first value afterwards.
    """

    _is_initial: bool = False
    _get_lr_called_within_step: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        self.optimizer = check_optimizer(optimizer)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        f"resuming a scheduler with last_epoch={last_epoch}; load the "
                        "optimizer's state_dict first (or use last_epoch=-1)"
                    )
        self.base_lrs: list[float] = group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and take the first step in "initial" mode."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates for ``last_epoch`` (called by :meth:`step`)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last :meth:`step` wrote into the groups."""
        return list(self._last_lr)

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or batch): ``last_epoch += 1``; ``group["lr"] = get_lr()[i]``.
        ``epoch`` (deprecated in torch, with its warning): ``last_epoch = epoch`` and the
        closed form of the schedule where it has one."""
        self._step_count += 1
        if epoch is not None:
            warn_epoch_deprecated()
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        with computing_lr(self):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            set_group_value(group, "lr", lr)
        self._last_lr = group_values(self.optimizer, "lr")

    _not_saved: tuple[str, ...] = ("optimizer",)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (and callables), copied; JSON-able."""
        return {key: copy.deepcopy(value) for key, value in self.__dict__.items()
                if key not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by :meth:`state_dict`."""
        self.__dict__.update(copy.deepcopy(state_dict))
