"""``ffnn.optim.lr_scheduler``: learning-rate schedules with torch's names and formulas.

Each scheduler writes ``group["lr"]`` of its optimizer on ``step()`` (``ReduceLROnPlateau``:
``step(metric)``), keeps ``last_epoch`` and ``base_lrs``, and saves JSON-able state.
"""

from ffnn.optim.lr_scheduler.base import LRScheduler
from ffnn.optim.lr_scheduler.cosine import CosineAnnealingLR
from ffnn.optim.lr_scheduler.decay import ExponentialLR, LambdaLR, LinearLR, MultiStepLR, StepLR
from ffnn.optim.lr_scheduler.more import (
    ConstantLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    MultiplicativeLR,
    PolynomialLR,
)
from ffnn.optim.lr_scheduler.one_cycle import OneCycleLR
from ffnn.optim.lr_scheduler.plateau import ReduceLROnPlateau
from ffnn.optim.lr_scheduler.sequential import ChainedScheduler, SequentialLR

__all__ = [
    "LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR",
    "CosineAnnealingLR", "OneCycleLR", "SequentialLR", "ChainedScheduler", "ReduceLROnPlateau",
    "ConstantLR", "CosineAnnealingWarmRestarts", "CyclicLR", "MultiplicativeLR", "PolynomialLR",
    "_LRScheduler",
]

_LRScheduler = LRScheduler  # torch's older name of the base class
