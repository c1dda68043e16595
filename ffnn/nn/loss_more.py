"""More of torch's losses and distances, composed from the ops (gradients are the ops'):
pairwise distance, margin ranking, hinge embedding, soft margin, multilabel soft margin,
cosine embedding, triplet margin, multi margin, Poisson and Gaussian negative log-likelihood;
functional forms and modules, with torch's formulas and argument names."""

from __future__ import annotations

import math

import numpy as np

from ffnn import ops
from ffnn.autograd import is_grad_enabled
from ffnn.nn.loss import _Loss, _WeightedLoss
from ffnn.nn.module import Module
from ffnn.tensor import Tensor, _operand


def _reduce(loss: Tensor, reduction: str, name: str, size_average=None, reduce=None) -> Tensor:
    from ffnn.nn.functional import _check_reduction, legacy_reduction

    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(name, reduction)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _like(value, like: Tensor) -> Tensor:
    return value if isinstance(value, Tensor) else _operand(np.asarray(value), like)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """‖x1 − x2 + eps‖_p over the last dim."""
    from ffnn.linalg import vector_norm

    return vector_norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """‖xᵢ − xⱼ‖_p for every pair of rows i < j of ``input`` [N, M], in row-major order of
    the pairs: [N(N − 1)/2] (the upper triangle of ``cdist(input, input)``; gradient 0 for
    equal rows, as torch's)."""
    from ffnn.functions_arrays import triu_indices
    from ffnn.tensor_statistics import _lp_norm

    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    rows, columns = triu_indices(input.shape[0], input.shape[0], 1)
    return _lp_norm(input[rows] - input[columns], p, -1)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, −y·(x1 − x2) + margin), y ∈ {1, −1}."""
    target = _like(target, input1)
    loss = ops.clamp(-target * (input1 - input2) + margin, 0.0, None)
    return _reduce(loss, reduction, "margin_ranking_loss", size_average, reduce)


def hinge_embedding_loss(input: Tensor, target, margin: float = 1.0, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin − x) where y = −1."""
    target = _like(target, input)
    margin_part = ops.where(target != 1, ops.clamp(margin - input, 0.0, None), 0.0)
    self_part = ops.where(target != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction, "hinge_embedding_loss",
                   size_average, reduce)


def soft_margin_loss(input: Tensor, target, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + e^{−y·x}) in the input's dtype; the target takes no gradient (torch's)."""
    target = _like(target, input)
    if target.requires_grad and is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect "
                           "to argument 'target'. This input cannot have requires_grad True.")
    target = target.to(input.dtype) if target.dtype != input.dtype else target
    loss = ops.log1p(ops.exp(-target * input))
    return _reduce(loss, reduction, "soft_margin_loss", size_average, reduce)


def multilabel_soft_margin_loss(input: Tensor, target, weight=None, size_average=None,
                                reduce=None, reduction: str = "mean") -> Tensor:
    """−mean over classes of w·(y·log σ(x) + (1 − y)·log σ(−x)), per sample."""
    from ffnn.nn.activation_more import logsigmoid

    target = _like(target, input)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * _like(weight, input)
    loss = loss.sum(dim=input.ndim - 1) / input.shape[-1]
    return _reduce(loss, reduction, "multilabel_soft_margin_loss", size_average, reduce)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1."""
    target = _like(target, input1)
    dim = input1.ndim - 1
    tiny = 1e-12
    cos = (input1 * input2).sum(dim) / ops.sqrt(
        ((input1 * input1).sum(dim) + tiny) * ((input2 * input2).sum(dim) + tiny))
    positive = ops.where(target == 1, 1 - cos, 0.0)
    negative = ops.where(target == -1, ops.clamp(cos - margin, 0.0, None), 0.0)
    return _reduce(positive + negative, reduction, "cosine_embedding_loss", size_average, reduce)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, margin + d(a, p) − d(a, n)), d the pairwise p-distance (with ``swap``, d(a, n)
    is replaced by d(p, n) when smaller)."""
    d_positive = pairwise_distance(anchor, positive, p, eps)
    d_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_negative = ops.minimum(d_negative, pairwise_distance(positive, negative, p, eps))
    loss = ops.clamp(margin + d_positive - d_negative, 0.0, None)
    return _reduce(loss, reduction, "triplet_margin_loss", size_average, reduce)


def multi_margin_loss(input: Tensor, target, p: int = 1, margin: float = 1.0, weight=None,
                      size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Σ_{j ≠ y} max(0, margin − x_y + x_j)^p / C per sample (times weight[y]); a term at
    exactly 0 passes no gradient (torch's kernel counts z > 0 only)."""
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, received {p}")
    labels = np.asarray(target.numpy() if isinstance(target, Tensor) else target, np.int64)
    batched = input if input.ndim == 2 else input.reshape(1, -1)
    labels = labels.reshape(-1)
    rows = np.arange(batched.shape[0])
    chosen = batched[rows, labels].reshape(-1, 1)
    hinge = ops.relu(margin - chosen + batched)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * _like(weight, input)[labels].reshape(-1, 1)
    others = np.ones(batched.shape, dtype=bool)
    others[rows, labels] = False
    loss = ops.where(Tensor._of(others), hinge, 0.0).sum(1) / batched.shape[1]
    if input.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multi_margin_loss", size_average, reduce)


def poisson_nll_loss(input: Tensor, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """e^x − y·x (``log_input``), or x − y·log(x + eps); ``full`` adds Stirling's term
    y·log y − y + ½·log(2πy) where y > 1."""
    target = _like(target, input)
    if log_input:
        loss = ops.exp(input) - target * input
    else:
        loss = input - target * ops.log(input + eps)
    if full:
        y = target.numpy()
        safe = np.where(y > 1, y, 1.0)
        stirling = np.where(y > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe),
                            0.0)
        loss = loss + _operand(stirling.astype(y.dtype), input)
    return _reduce(loss, reduction, "poisson_nll_loss", size_average, reduce)


def gaussian_nll_loss(input: Tensor, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """½·(log max(var, eps) + (x − y)² / max(var, eps)) (+ ½·log 2π when ``full``); the clamp
    of var does not stop its gradient, as in torch. ``var``: a float (the same for every
    entry, in input's dtype), input's shape, one fewer dim, or input's shape with one dim of
    size 1 (homoscedastic), as torch's."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = Tensor._make(np.full(tuple(input.shape), var, input.dtype), False, None)
    target, var = _like(target, input), _like(var, input)
    if var.shape != input.shape:
        mismatched = [v for i, v in zip(input.shape, var.shape) if i != v]
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (var.ndim == input.ndim and sum(mismatched) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size "
                             f"{tuple(var.shape)} for input {tuple(input.shape)}")
    if np.any(var.numpy() < 0):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    lifted = np.maximum(var.numpy(), eps) - var.numpy()
    var = var + _operand(lifted, var)
    loss = 0.5 * (ops.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


class PairwiseDistance(Module):
    """‖x1 − x2 + eps‖_p over the last dim."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class MarginRankingLoss(_Loss):
    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return margin_ranking_loss(input1, input2, target, self.margin,
                                   reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    def forward(self, input, target):
        return soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    def forward(self, input, target):
        return multilabel_soft_margin_loss(input, target, self.weight,
                                           reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return cosine_embedding_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class TripletMarginLoss(_Loss):
    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                 reduce=None, reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                 reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)
