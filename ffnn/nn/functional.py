"""``ffnn.nn.functional`` (``F``): layers, activations and losses as functions, as in torch.

Inputs are checked here, at the public boundary, so the ops in ``ffnn.ops`` can stay lean.
"""

from __future__ import annotations

import warnings

import numpy as np

from ffnn import ops
from ffnn import random as _random
from ffnn.errors import RuntimeValueError
from ffnn.nn import loss_dtypes
from ffnn.nn.activation_more import (  # noqa: F401 - torch's functional names
    _written,
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    logsigmoid,
    mish,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
)
from ffnn.nn.loss_more import (  # noqa: F401 - torch's functional names
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_soft_margin_loss,
    pairwise_distance,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from ffnn.nn.padding import pad  # noqa: F401 - torch's functional name
from ffnn.numpy_names import accept_numpy_names
from ffnn.ops import losses, norms
from ffnn.ops.dropout import Dropout as _DropoutOp
from ffnn.size import Size
from ffnn.tensor import Tensor, _operand

# ----- layers and activations ----------------------------------------------------------
linear = accept_numpy_names(ops.linear, __name__)  # torch's input= (ops name it x)
sigmoid = accept_numpy_names(ops.sigmoid, __name__)
tanh = accept_numpy_names(ops.tanh, __name__)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """y = max(x, 0) (written into ``input``, which is returned, when ``inplace``)."""
    return _written(ops.relu, input, inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _written(ops.silu, input, inplace)


def _softmax_dim(name: str, input: Tensor, dim) -> int:
    """torch's legacy choice when ``dim`` is omitted: 0 for 0-, 1- and 3-d input, else 1."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if input.ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """yᵢ = e^{xᵢ} / Σⱼ e^{xⱼ} along ``dim`` (optionally computed in ``dtype``)."""
    dim = _softmax_dim("softmax", input, dim)
    return ops.softmax(input if dtype is None else input.to(dtype), dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """y = x - log Σ eˣ along ``dim`` (optionally computed in ``dtype``)."""
    dim = _softmax_dim("log_softmax", input, dim)
    return ops.log_softmax(input if dtype is None else input.to(dtype), dim)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _written(lambda x: ops.leaky_relu(x, negative_slope), input, inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _written(lambda x: ops.elu(x, alpha), input, inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    from ffnn.nn.activation import SELU_ALPHA, SELU_SCALE

    return _written(lambda x: ops.elu(x, SELU_ALPHA, SELU_SCALE), input, inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return ops.softplus(input, beta, threshold)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """min(max(x, min_val), max_val), its gradient 0 at the corners (torch's)."""
    return _written(lambda x: ops.hardtanh(x, min_val, max_val), input, inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6), its gradient 0 at 0 and 6 (torch's)."""
    return _written(lambda x: ops.hardtanh(x, 0.0, 6.0), input, inplace)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else a·x, with one slope or one per channel (axis 1; a 1-D input has one
    channel), checked as torch checks them."""
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = "
                           f"{channels}.")
    return ops.prelu(input, weight)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh'. Received: {approximate!r}")
    return ops.gelu(input, approximate)


def check_dropout_probability(p: float) -> None:
    """ValueError unless 0 ≤ p ≤ 1 (every dropout's check)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1. Received: p={p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
            *, generator=None) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p).

    torch's positional order (``inplace`` fourth); ``generator`` is keyword-only."""
    if not isinstance(inplace, (bool, int)):
        raise TypeError(f"dropout: inplace must be a bool (pass generator= by keyword). "
                        f"Received: inplace={inplace!r}")
    check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    return _DropoutOp.apply(input, p=p, rng=_random.rng(generator))


def _array_or_none(value):
    return value._data if isinstance(value, Tensor) else value


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, num_batches_tracked=None) -> Tensor:
    """Batch norm over axis 1 of [N, C] or [N, C, L]. In training, normalise with the batch
    statistics and update ``running_mean``/``running_var`` (tensors or arrays) in place with
    the unbiased batch variance; otherwise normalise with the running statistics."""
    running_mean, running_var = _array_or_none(running_mean), _array_or_none(running_var)
    if training:
        n = input._data.size // input._data.shape[1]
        if n <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training. Received: input of "
                f"shape {input.shape}"
            )
        factor = momentum
        if momentum is None:  # cumulative moving average
            factor = 1.0 / float(num_batches_tracked) if num_batches_tracked else 0.0
        return norms.BatchNorm.apply(input, weight, bias, eps=eps, running_mean=running_mean,
                                     running_var=running_var, momentum=factor)
    if running_mean is None or running_var is None:
        raise RuntimeError(
            "batch_norm: running_mean and running_var must be defined in evaluation mode "
            "(training=False). Received: "
            f"running_mean={'None' if running_mean is None else 'an array'}, "
            f"running_var={'None' if running_var is None else 'an array'}"
        )
    return norms.RunningBatchNorm.apply(input, weight, bias, eps=eps,
                                        running_mean=running_mean, running_var=running_var)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    normalized_shape = _shape_tuple(normalized_shape)
    if tuple(input.shape[-len(normalized_shape):]) != normalized_shape:
        raise RuntimeValueError(
            f"layer_norm: input shape {input.shape} does not end with normalized_shape "
            f"{normalized_shape}"
        )
    return norms.LayerNorm.apply(input, weight, bias, normalized_ndim=len(normalized_shape),
                                 eps=eps)


def rms_norm(input, normalized_shape, weight=None, eps=None) -> Tensor:
    normalized_shape = _shape_tuple(normalized_shape)
    if tuple(input.shape[-len(normalized_shape):]) != normalized_shape:
        raise RuntimeValueError(
            f"rms_norm: input shape {input.shape} does not end with normalized_shape "
            f"{normalized_shape}"
        )
    return norms.RMSNorm.apply(input, weight, normalized_ndim=len(normalized_shape), eps=eps)


def _shape_tuple(shape) -> tuple:
    return (shape,) if isinstance(shape, int) else tuple(shape)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    labels = np.asarray(tensor._data if isinstance(tensor, Tensor) else tensor)
    if labels.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor. Received: tensor of "
                           f"dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise RuntimeError(f"Class values must be non-negative. Received: {labels.min()}")
    if num_classes < 0:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif labels.size and labels.max() >= num_classes:
        raise RuntimeError(f"Class values must be smaller than num_classes. Received: "
                           f"{labels.max()} with num_classes={num_classes}")
    return Tensor._of(np.eye(num_classes, dtype=np.int64)[labels])


# ----- losses --------------------------------------------------------------------------
_REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average=None, reduce=None, reduction: str = "mean") -> str:
    """torch's mapping of the deprecated ``size_average`` / ``reduce`` flags: when either is
    given it decides (each defaults to True): reduce and size_average → 'mean', reduce alone →
    'sum', not reduce → 'none'; otherwise ``reduction`` stands. Warns as torch does."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{result}' instead.", UserWarning, stacklevel=3)
    return result


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{name}: reduction must be 'mean', 'sum' or 'none'. Received: reduction={reduction!r}"
        )


def _target(target, like: Tensor) -> Tensor:
    """A tensor target as given (the losses promote with it as torch); an array or list (torch
    takes none) in the input's dtype."""
    if isinstance(target, Tensor):
        return target
    array = np.asarray(target)
    return _operand(array.astype(like.dtype) if array.dtype.kind in "biuf" else array, like)


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:
    """Same shapes, and a floating-point input (an integer mean would be truncated)."""
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: input must be a floating-point tensor (cast it with "
                           f".float()). Received: input of dtype {input.dtype}")
    if input._data.shape != target._data.shape:
        hint = ""
        if input.ndim == target.ndim + 1 and input.shape[-1] == 1:
            hint = " Reshape the target to match, e.g. target.view(-1, 1)."
        elif target.ndim == input.ndim + 1 and target.shape[-1] == 1:
            hint = " Reshape the input to match, e.g. input.view(-1)."
        raise RuntimeValueError(
            f"{name}: input shape {tuple(input.shape)} and target shape {tuple(target.shape)} "
            "differ; ffnn does not broadcast them silently (that would compare every input "
            f"with every target).{hint}"
        )


def _matched(name: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """(input, target) of one shape for an element-wise regression loss: shapes that differ
    only by dims of length 1 (a critic's [1, 1] value against a [1] or 0-d return) broadcast
    with torch's warning, their elements paired one to one as torch pairs them; any other
    difference is ``_check_same_shape``'s error (torch would pair every input with every
    target)."""
    if input._data.shape != target._data.shape and input.numel() == target.numel():
        try:
            shape = np.broadcast_shapes(input._data.shape, target._data.shape)
        except ValueError:  # not broadcastable at all
            shape = None
        if shape is not None and int(np.prod(shape)) == input.numel():
            warnings.warn(f"Using a target size ({Size(target.shape)}) that is different to the "
                          f"input size ({Size(input.shape)}). This will likely lead to incorrect "
                          "results due to broadcasting. Please ensure they have the same size.",
                          UserWarning, stacklevel=3)
            return input.expand(*shape), target.expand(*shape)
    _check_same_shape(name, input, target)
    return input, target


def _float_target(target: Tensor, input: Tensor) -> Tensor:
    if target.dtype != input.dtype:
        return target.to(input.dtype)
    return target


def mse_loss(input: Tensor, target, size_average=None, reduce=None,
             reduction: str = "mean", weight=None) -> Tensor:
    """L = reduce((input - target)²) in their promoted dtype; input and target must have the
    same shape. ``weight``
    (torch 2's, input's shape): each term times its weight, 'mean' then Σ wᵢLᵢ / Σ wᵢ."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("mse_loss", reduction)
    target = _target(target, input)
    input, target = loss_dtypes.promoted(*_matched("MSELoss", input, target))
    if weight is not None:
        terms = losses.MSELoss.apply(input, target, reduction="none")
        return _weighted(terms, weight, input, reduction, by_weight=True)
    return losses.MSELoss.apply(input, target, reduction=reduction)


def l1_loss(input: Tensor, target, size_average=None, reduce=None,
            reduction: str = "mean", weight=None) -> Tensor:
    """L = reduce(|input - target|) in their promoted dtype; ``weight`` as ``mse_loss``'s."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("l1_loss", reduction)
    target = _target(target, input)
    loss_dtypes.refuse_bool(target)
    input, target = loss_dtypes.promoted(*_matched("L1Loss", input, target))
    if weight is not None:
        terms = losses.L1Loss.apply(input, target, reduction="none")
        return _weighted(terms, weight, input, reduction, by_weight=True)
    return losses.L1Loss.apply(input, target, reduction=reduction)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0,
               weight=None) -> Tensor:
    """L = reduce(½d² if |d| < δ else δ(|d| - ½δ)), d = input - target. ``weight`` (input's
    shape): each term times its weight, 'mean' then the mean of the weighted terms (torch's,
    unlike ``mse_loss``'s). A target of another dtype: the loss in the input's, and its
    backward raises (torch's)."""
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive. Received: delta={delta}")
    target = _target(target, input)
    input, target = _matched("HuberLoss", input, target)
    if weight is not None:
        terms = losses.HuberLoss.apply(input, _float_target(target, input), reduction="none",
                                       delta=delta)
        out = _weighted(terms, weight, input, reduction, by_weight=False)
    else:
        out = losses.HuberLoss.apply(input, _float_target(target, input), reduction=reduction,
                                     delta=delta)
    return loss_dtypes.backward_refused(out, input, target)


def _weighted(terms: Tensor, weight, input: Tensor, reduction: str, by_weight: bool) -> Tensor:
    """torch's weighted regression losses: ``terms · weight``, then none, sum, or the mean:
    Σ wᵢLᵢ / Σ wᵢ (``by_weight``) or Σ wᵢLᵢ / n."""
    weight = weight if isinstance(weight, Tensor) else _operand(np.asarray(weight), input)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size. Received: weight of "
                         f"shape {tuple(weight.shape)}, input of shape {tuple(input.shape)}")
    weighted = terms * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / weight.sum() if by_weight else weighted.mean()


def smooth_l1_loss(input: Tensor, target, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """L = reduce(½d²/β if |d| < β else |d| - ½β), d = input - target: the Huber loss with
    δ = β divided by β (the L1 loss for β = 0)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative. Received: beta={beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    input, target = loss_dtypes.promoted(input, _target(target, input))
    return huber_loss(input, target, reduction, beta) / beta


def kl_div(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL divergence of ``target`` from the log-probabilities ``input``:
    L = reduce(t log t - t · input) (t log t = 0 where t = 0), or with ``log_target``
    reduce(eᵗ · (t - input)); 'batchmean' divides the sum by the batch size (the true KL).
    Torch's formula term by term: t log t in the target's dtype, the rest promoted."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none'. "
                         f"Received: reduction={reduction!r}")
    target = _target(target, input)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if input.dtype.kind != "f" or target.dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    _check_same_shape("KLDivLoss", input, target)
    if log_target:
        pointwise = ops.exp(target) * (target - input)
    else:
        pointwise = target.xlogy(target) - target * input
    if reduction == "none":
        return pointwise
    total = ops.sum(pointwise)
    if reduction == "sum":
        return total
    if reduction == "batchmean":
        return total / (input.shape[0] if input.ndim else 1)
    return total / max(pointwise.numel(), 1)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """(x1 / max(‖x1‖, eps)) · (x2 / max(‖x2‖, eps)) summed along ``dim``."""
    n1 = ops.clamp(x1.norm(2, dim, keepdim=True), min=eps)
    n2 = ops.clamp(x2.norm(2, dim, keepdim=True), min=eps)
    return ops.sum((x1 / n1) * (x2 / n2), dim)


def _class_weight(weight, input: Tensor, name: str):
    if weight is None:
        return None
    w = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=input.dtype)
    if w.shape != (input.shape[1],):
        raise ValueError(
            f"{name}: weight must have one entry per class, shape ({input.shape[1]},). "
            f"Received: weight of shape {w.shape}"
        )
    return Tensor._make(w, False, None)


def cross_entropy(input: Tensor, target, weight=None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits ``input`` [N, C] (or [C]) against class indices
    (int, shape [N]) or class probabilities (float, shape [N, C])."""
    if weight is None and size_average is None and reduce is None and type(input) is Tensor and \
            (reduction == "mean" or reduction == "sum") and type(target) is Tensor:
        data, labels = input._data, target._data  # the common case, without the checks below
        if data.ndim == 2 and labels.dtype == np.int64 and labels.shape == data.shape[:1] and \
                0.0 <= label_smoothing <= 1.0:
            return losses.CrossEntropyIndices.apply(  # it checks the labels
                input, target, weight=None, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing)
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be in [0, 1]. Received: {label_smoothing}"
        )
    target = target if isinstance(target, Tensor) else Tensor._of(np.asarray(target))
    if input.ndim == 1:  # one unbatched sample
        out = cross_entropy(input.reshape(1, -1), target.reshape(1, *target.shape), weight,
                            ignore_index=ignore_index, reduction=reduction,
                            label_smoothing=label_smoothing)
        return out.reshape(()) if reduction == "none" else out
    if input.ndim > 2:  # [N, C, d1, …]: each position a row, as torch computes it
        return _over_positions(cross_entropy, "cross_entropy", input, target, reduction,
                               weight=weight, ignore_index=ignore_index,
                               label_smoothing=label_smoothing)
    w = _class_weight(weight, input, "cross_entropy")
    if target.dtype.kind in "iu":
        if target.shape != input.shape[:1]:
            raise RuntimeValueError(
                f"cross_entropy: class-index target must have shape ({input.shape[0]},) for "
                f"input of shape {tuple(input.shape)}. Received: target of shape "
                f"{tuple(target.shape)}"
            )
        return losses.CrossEntropyIndices.apply(  # it checks the labels
            input, target, weight=None if w is None else w._data, ignore_index=ignore_index,
            reduction=reduction, label_smoothing=label_smoothing,
        )
    if target.dtype.kind == "f" and target.shape == input.shape:
        return losses.CrossEntropyProbs.apply(
            *loss_dtypes.promoted(input, target), weight=None if w is None else w._data,
            reduction=reduction, label_smoothing=label_smoothing,
        )
    raise RuntimeValueError(
        "cross_entropy expects class indices of an integer dtype with shape "
        f"({input.shape[0]},) or class probabilities of shape {tuple(input.shape)}. Received: "
        f"{target.dtype} target of shape {tuple(target.shape)}"
        + (" (cast integer-valued labels with .long())" if target.dtype.kind == "f" else "")
    )


def _over_positions(loss, name: str, input: Tensor, target: Tensor, reduction: str,
                    **options) -> Tensor:
    """``loss`` of inputs [N, C, d1, …] against class indices [N, d1, …] (or probabilities
    shaped as the input): every position a row of [N·d1·…, C]; 'none' gives [N, d1, …]."""
    c = input.shape[1]
    rows = input.movedim(1, -1).reshape(-1, c)
    if target.dtype.kind == "f" and tuple(target.shape) == tuple(input.shape):
        flat, shape = target.movedim(1, -1).reshape(-1, c), (input.shape[0], *input.shape[2:])
    elif tuple(target.shape) == (input.shape[0], *input.shape[2:]):
        flat, shape = target.reshape(-1), tuple(target.shape)
    else:
        raise ValueError(f"{name}: for input of shape {tuple(input.shape)} the target must "
                         f"have shape {(input.shape[0], *input.shape[2:])} (class indices) or "
                         f"{tuple(input.shape)} (probabilities). Received: target of shape "
                         f"{tuple(target.shape)}")
    out = loss(rows, flat, reduction=reduction, **options)
    return out.reshape(shape) if reduction == "none" else out


def nll_loss(input: Tensor, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` [N, C] at class indices [N]."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("nll_loss", reduction)
    target = target if isinstance(target, Tensor) else Tensor._of(np.asarray(target))
    if input.ndim > 2 and target.dtype.kind in "iu":  # [N, C, d1, …], as torch
        return _over_positions(nll_loss, "nll_loss", input, target, reduction, weight=weight,
                               ignore_index=ignore_index)
    if input.ndim != 2 or target.dtype.kind not in "iu" or target.shape != input.shape[:1]:
        raise ValueError(
            "nll_loss expects log-probabilities [N, C] and integer class indices [N]. Received: "
            f"input {tuple(input.shape)}, {target.dtype} target {tuple(target.shape)}"
        )
    losses.check_class_labels("nll_loss", target._data, input.shape[1], ignore_index)
    w = _class_weight(weight, input, "nll_loss")
    return losses.NLLLoss.apply(input, target, weight=None if w is None else w._data,
                                ignore_index=ignore_index, reduction=reduction)


def _optional_array(value, like: Tensor, name: str):
    if value is None:
        return None
    array = np.asarray(value._data if isinstance(value, Tensor) else value, dtype=like.dtype)
    try:
        np.broadcast_shapes(array.shape, like.shape)
    except ValueError:
        raise ValueError(
            f"{name} of shape {array.shape} does not broadcast to the input shape "
            f"{tuple(like.shape)}"
        ) from None
    return array


def _check_unit_interval(name: str, values: np.ndarray, what: str) -> None:
    """torch's check of ``binary_cross_entropy``'s arguments: every element in [0, 1] (NaN
    is not)."""
    if values.size and not ((values >= 0) & (values <= 1)).all():
        found = "NaN" if np.isnan(values).any() else \
            f"values in [{values.min():.4g}, {values.max():.4g}]"
        raise RuntimeValueError(
            f"binary_cross_entropy: all elements of {name} should be between 0 and 1 "
            f"({what}). Received: {found}")


def binary_cross_entropy(input: Tensor, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """L = reduce(-w (y log p + (1-y) log(1-p))) on probabilities p ∈ [0, 1]; ``weight``
    broadcasts against the input (one weight per element, per sample or per column)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy", reduction)
    target = _target(target, input)
    _check_same_shape("BCELoss", input, target)
    loss_dtypes.check_same_dtype(input, target)
    _check_unit_interval("input", input._data, "probabilities (apply sigmoid, or use "
                         "BCEWithLogitsLoss on logits)")
    _check_unit_interval("target", target._data, "labels or label probabilities")
    return losses.BCELoss.apply(input, target, weight=_optional_array(weight, input, "weight"),
                                reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight=None) -> Tensor:
    """Sigmoid + BCE fused and stable for any logits; ``pos_weight`` (one per column) scales
    the positive term: L = -w (p_w y log σ(x) + (1-y) log(1-σ(x))). The loss has the
    target's dtype, as torch's (it computes ``(1 - target).mul_(input)`` in place)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _target(target, input)
    _check_same_shape("BCEWithLogitsLoss", input, target)
    if target.dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if target.dtype.kind != "f":
        raise RuntimeError(f"result type {loss_dtypes.torch_name(input.dtype)} can't be cast "
                           f"to the desired output type {loss_dtypes.torch_name(target.dtype)}")
    x, y = loss_dtypes.promoted(input, target)
    out = losses.BCEWithLogitsLoss.apply(
        x, y, weight=_optional_array(weight, x, "weight"),
        pos_weight=_optional_array(pos_weight, x, "pos_weight"), reduction=reduction,
    )
    return out if out.dtype == target.dtype else out.to(target.dtype)


__all__ = [
    "celu", "glu", "hardshrink", "hardsigmoid", "hardswish", "logsigmoid", "mish", "softmin",
    "softshrink", "softsign", "tanhshrink", "threshold", "cosine_embedding_loss",
    "gaussian_nll_loss", "hinge_embedding_loss", "margin_ranking_loss", "multi_margin_loss",
    "multilabel_soft_margin_loss", "pairwise_distance", "poisson_nll_loss", "soft_margin_loss",
    "triplet_margin_loss", "pad", "rrelu", "alpha_dropout", "relu_", "elu_", "selu_", "celu_",
    "leaky_relu_", "hardtanh_", "rrelu_", "threshold_", "embedding_bag",
    "linear", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "softmax", "log_softmax",
    "elu", "selu", "softplus", "hardtanh", "relu6", "prelu",
    "dropout", "batch_norm", "layer_norm", "rms_norm", "one_hot", "mse_loss", "l1_loss",
    "huber_loss", "smooth_l1_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "normalize", "embedding", "kl_div", "cosine_similarity",
    "group_norm", "instance_norm", "bilinear", "dropout1d", "gumbel_softmax", "pdist",
    "feature_alpha_dropout", "multilabel_margin_loss", "triplet_margin_with_distance_loss",
]


def embedding(input, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` [num_embeddings, dim] picked by the integer ``input`` (any shape).
    ``max_norm``: each row looked up is first rescaled in place to a ``norm_type``-norm of at
    most ``max_norm`` (torch's ``embedding_renorm_``); ``sparse=True`` gives the same gradient
    dense. NotImplementedError for ``scale_grad_by_freq=True``."""
    if not isinstance(input, Tensor):
        input = Tensor._of(np.asarray(input))
    if scale_grad_by_freq:
        raise NotImplementedError("embedding: scale_grad_by_freq=True (gradients divided by "
                                  "each index's count in the batch) is not supported")
    if max_norm is not None:
        from ffnn.nn.embedding import _renorm_rows  # noqa: PLC0415 - embedding imports us

        _renorm_rows(weight._data, input._data, max_norm, float(norm_type))
    return ops.embedding(input, weight, padding_idx)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖_p, eps) along ``dim`` (rows of a [N, D] batch by default)."""
    norm = input.norm(p, dim, keepdim=True)
    return input / ops.clamp(norm, min=eps)


from ffnn.nn.bilinear import bilinear  # noqa: E402,F401 - torch's name
from ffnn.nn.channel_dropout import dropout1d  # noqa: E402,F401 - torch's name
from ffnn.nn.embedding_bag import embedding_bag  # noqa: E402,F401 - torch's name
from ffnn.nn.feature_dropout import feature_alpha_dropout  # noqa: E402,F401 - torch's name
from ffnn.nn.group_norms import group_norm, instance_norm  # noqa: E402,F401 - torch's names
from ffnn.nn.loss_more import pdist  # noqa: E402,F401 - torch's name
from ffnn.nn.margin_losses import (  # noqa: E402,F401 - torch's names
    multilabel_margin_loss,
    triplet_margin_with_distance_loss,
)
from ffnn.nn.random_layers import alpha_dropout, gumbel_softmax, rrelu  # noqa: E402,F401
from ffnn.ops.attention import scaled_dot_product_attention  # noqa: E402,F401


def _in_place(function):
    """torch's ``F.<name>_``: ``function`` written into its input, which it returns."""
    def apply(input: Tensor, *args, **kwargs) -> Tensor:
        return input._inplace(lambda x: function(x, *args, **kwargs))
    apply.__name__ = apply.__qualname__ = function.__name__ + "_"
    apply.__doc__ = f"``{function.__name__}`` in place: the input is overwritten and returned."
    return apply


relu_, elu_, selu_, celu_, leaky_relu_, hardtanh_, rrelu_, threshold_ = map(
    _in_place, (relu, elu, selu, celu, leaky_relu, hardtanh, rrelu, threshold))


def __getattr__(name: str):
    from ffnn.nn.out_of_scope import missing

    raise missing("ffnn.nn.functional", name)
