"""Loss modules: configuration held on the module, the math in ``ffnn.nn.functional``."""

from __future__ import annotations

import numpy as np

from ffnn.nn import functional as F
from ffnn.nn.module import Module
from ffnn.nn.traits import declare
from ffnn.ops.activations import stable_sigmoid
from ffnn.tensor import Tensor


class _Loss(Module):
    """Holds ``reduction`` ('mean', 'sum', 'none'); the deprecated ``size_average`` /
    ``reduce`` flags are mapped to it as torch maps them (``F.legacy_reduction``)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        reduction = F.legacy_reduction(size_average, reduce, reduction)
        F._check_reduction(type(self).__name__, reduction)
        self.reduction = reduction  # not in the repr: torch prints ``MSELoss()``


class _WeightedLoss(_Loss):
    """A loss with per-class weights: ``weight`` a buffer (in ``state_dict`` and moved by
    ``.to()``, as torch's), or None."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """L = mean((input - target)²) (or sum / none); shapes must match."""

    def forward(self, input: Tensor, target) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """L = mean(|input - target|)."""

    def forward(self, input: Tensor, target) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """½d²/β for |d| < β, |d| - ½β beyond (d = input - target)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be non-negative. Received: beta={beta}")
        self.beta = beta

    def forward(self, input: Tensor, target) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic for |d| < δ, linear beyond."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target) -> Tensor:
        return F.huber_loss(input, target, self.reduction, self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits against class indices or class probabilities."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1]. Received: {label_smoothing}"
            )
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target) -> Tensor:
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities at class indices."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target) -> Tensor:
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities."""

    def forward(self, input: Tensor, target) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy, fused and stable; ``pos_weight`` scales positives."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """KL divergence of the target from log-probabilities (``reduction='batchmean'`` for the
    true KL per sample); ``log_target`` when the target is given as log-probabilities."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        Module.__init__(self)
        self.reduction = F.legacy_reduction(size_average, reduce, reduction)
        if self.reduction not in ("mean", "batchmean", "sum", "none"):
            raise ValueError(f"KLDivLoss: reduction must be 'mean', 'batchmean', 'sum' or "
                             f"'none'. Received: reduction={self.reduction!r}")
        self.log_target = log_target

    def forward(self, input: Tensor, target) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


# ----- traits: name (``Trainer(loss="mse")``), task, outputs → probabilities -----------------
def softmax_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Logits [n, k] → softmax over the classes in float64, e^(z - max z) / Σ e^(z - max z),
    in NumPy (``Trainer``'s metrics, ``predict_proba``, the CLI's eval and predict): an
    epoch's outputs once, where the compiled row kernels would compile their float64 form
    for it alone."""
    z = np.asarray(outputs, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _exp(outputs: np.ndarray) -> np.ndarray:
    """Log-probabilities → probabilities."""
    return np.exp(outputs)


declare(CrossEntropyLoss, kind="loss", name="cross_entropy", task="multiclass",
        probabilities=softmax_probabilities)
declare(NLLLoss, kind="loss", name="nll", task="multiclass", probabilities=_exp)
declare(MSELoss, kind="loss", name="mse", task="regression")
declare(L1Loss, kind="loss", name="l1", aliases={"mae": {}}, task="regression")
declare(HuberLoss, kind="loss", name="huber", task="regression")
declare(BCELoss, kind="loss", name="bce", task="binary", probabilities=lambda outputs: outputs)
declare(BCEWithLogitsLoss, kind="loss", name="bce_with_logits", task="binary",
        probabilities=stable_sigmoid)
