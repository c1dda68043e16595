"""Mixed precision with torch's names: ``autocast`` and ``GradScaler`` — no-ops on ffnn.

ffnn computes in the tensors' own dtype (float32 by default), so ``autocast`` changes nothing
inside its block and ``GradScaler`` behaves as torch's does when CUDA is unavailable: disabled,
``scale(loss)`` returns the loss, ``step(optimizer)`` calls ``optimizer.step()``. A training
loop written for automatic mixed precision therefore runs unchanged, in full precision.
"""

from __future__ import annotations

import functools


class autocast:  # noqa: N801 - torch's name
    """``with autocast(device_type='cuda', dtype=None, enabled=True):`` — runs the block as
    is (also usable as a decorator)."""

    def __init__(self, device_type: str = "cuda", dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        self.device_type, self.dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


class GradScaler:
    """torch's loss scaler, disabled (as torch's is without CUDA): the loss and gradients are
    used unscaled. ``scale``, ``step``, ``update``, ``unscale_``, ``get_scale``,
    ``is_enabled``, ``state_dict`` and ``load_state_dict`` are torch's."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        self.device = device

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer) -> None:
        return None

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        return None

    def get_scale(self) -> float:
        return 1.0

    def is_enabled(self) -> bool:
        return False

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        return None
