"""Two more of torch's margin losses, composed from the ops (gradients are the ops'):
``multilabel_margin_loss`` (ranks every target class above every other class) and
``triplet_margin_with_distance_loss`` (the triplet loss with any distance function); their
modules ``MultiLabelMarginLoss`` and ``TripletMarginWithDistanceLoss``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ffnn import ops
from ffnn.nn.loss_more import PairwiseDistance, _Loss, _reduce, pairwise_distance
from ffnn.tensor import Tensor


def _multilabel_targets(target, input: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(labels [N, C] with the entries from the first -1 on set to 0, valid [N, C]: the
    entries before the first -1). RuntimeError (torch's) for a non-integer target, one of the
    wrong size or an entry outside [-1, C)."""
    labels = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
    classes = input.shape[-1] if input.ndim else 1
    if labels.dtype.kind not in "iu":
        raise RuntimeError(f"multilabel_margin_loss: expected an integer target (class "
                           f"indices padded with -1). Received: dtype={labels.dtype}")
    if (labels.ndim > 1 or labels.size != classes) if input.ndim < 2 else (
            labels.shape != tuple(input.shape)):
        raise RuntimeError(f"inconsistent target size: {list(labels.shape)} for input of "
                           f"size: {list(input.shape)}")
    labels = labels.reshape(-1, classes).astype(np.int64)
    if labels.size and (labels.min() < -1 or labels.max() >= classes):
        raise RuntimeError(f"multilabel_margin_loss: target entries must be in [-1, "
                           f"{classes}). Received: {labels.min()} … {labels.max()}")
    valid = np.cumsum(labels < 0, axis=1) == 0
    return np.where(valid, labels, 0), valid


def multilabel_margin_loss(input: Tensor, target, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Σ_j Σ_{i ∉ y} max(0, 1 − (x[y_j] − x[i])) / C per sample, the y_j being the target's
    entries before its first -1 (a class listed twice counts twice). input [C] or [N, C],
    target alike (int64 class indices); 'none' gives [N] (or [] for one sample)."""
    if input.ndim > 2 or (input.ndim > 0 and input.shape[-1] == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")
    labels, valid = _multilabel_targets(target, input)
    batch, classes = labels.shape
    rows = np.arange(batch)[:, None]
    is_target = np.zeros((batch, classes), dtype=bool)
    is_target[np.broadcast_to(rows, labels.shape)[valid], labels[valid]] = True
    scores = input.reshape(batch, classes)
    chosen = scores[rows, labels]  # x[y_j], [N, C]
    hinge = ops.relu(1.0 - chosen.unsqueeze(2) + scores.unsqueeze(1))  # [N, j, i]
    pairs = valid[:, :, None] & ~is_target[:, None, :]
    loss = ops.where(Tensor._of(pairs), hinge, 0.0).reshape(batch, -1).sum(1) / classes
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multilabel_margin_loss", size_average, reduce)


def triplet_margin_with_distance_loss(
        anchor: Tensor, positive: Tensor, negative: Tensor, *,
        distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
        margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) − d(a, n)) with d = ``distance_function`` (default
    ``pairwise_distance``); ``swap`` uses min(d(a, n), d(p, n)). ValueError for margin ≤ 0 or
    a bad reduction; RuntimeError when the three inputs differ in dimension count."""
    from ffnn.nn.functional import _check_reduction

    _check_reduction("triplet_margin_with_distance_loss", reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    d_positive, d_negative = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_negative = ops.minimum(d_negative, distance(positive, negative))
    loss = ops.clamp(margin + d_positive - d_negative, 0.0, None)
    return _reduce(loss, reduction, "triplet_margin_with_distance_loss")


class MultiLabelMarginLoss(_Loss):
    """``multilabel_margin_loss`` as a module: input [C] or [N, C], target the class indices
    padded with -1."""

    def forward(self, input: Tensor, target) -> Tensor:
        return multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """``triplet_margin_with_distance_loss`` as a module; the default distance is a
    ``PairwiseDistance()`` child, as torch's. ValueError for margin ≤ 0."""

    def __init__(self, *, distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                 margin: float = 1.0, swap: bool = False, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        self.distance_function = (PairwiseDistance() if distance_function is None
                                  else distance_function)
        self.margin, self.swap = margin, swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)
