"""Loss functions, fused with their gradients. ``reduction`` is 'mean', 'sum' or 'none'.

The gradient of a reduced loss with respect to each element is its weight in the reduction
(1/N for 'mean') times the upstream gradient; for 'none' it is the upstream gradient itself.
"""

from __future__ import annotations

import numpy as np

from ffnn import accel
from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.errors import IndexValueError
from ffnn.kernels import ElementwiseKernel
from ffnn.ops.activations import log_softmax_array, stable_sigmoid
from ffnn.ops.elementwise import constant_like


def _out_of_range(labels, num_classes: int, ignore_index: int):
    """A mask of the labels outside [0, num_classes) that are not ``ignore_index``, or None
    when there is none (two reductions; the mask only when one is out of range)."""
    if labels.size == 0 or 0 <= labels.min() and labels.max() < num_classes:
        return None
    bad = (labels < 0) | (labels >= num_classes)
    bad &= labels != ignore_index
    return bad if bad.any() else None


def labels_in_range(labels, num_classes: int, ignore_index: int) -> bool:
    """Whether every class label is in [0, num_classes) or ``ignore_index``."""
    return _out_of_range(labels, num_classes, ignore_index) is None


def check_class_labels(name: str, labels, num_classes: int, ignore_index: int) -> None:
    """torch's IndexError (also a ValueError) naming the first label outside
    [0, num_classes) that is not ``ignore_index``."""
    bad = _out_of_range(labels, num_classes, ignore_index)
    if bad is not None:
        first = int(labels[bad].flat[0])
        raise IndexValueError(
            f"{name}: class labels must be in [0, {num_classes - 1}] for {num_classes} classes "
            f"(or ignore_index={ignore_index}). Received: label {first} "
            f"({int(bad.sum())} label(s) out of range)"
        )


def _reduce(losses, reduction: str):
    """Mean or sum as a 0-d array of the losses' dtype (the same pairwise sum np.mean uses,
    without its Python wrapper: this runs every step)."""
    if reduction == "none":
        return losses
    m = xp(losses)
    total = m.add.reduce(losses, axis=None)
    if reduction == "mean":
        total = _quotient(total, losses.size)
    return m.asarray(total, dtype=losses.dtype)


def _scale(grad, reduction: str, count: int):
    """Per-element factor dL/dloss_i of the reduction, broadcastable. A 0-d mean's g/N is
    divided in Python's float64 and rounded to the gradient's dtype: the dtype's own
    division's bits (53 bits hold twice float32's 24 + 2), without NumPy's slower 0-d
    operations (a few µs a step on a small network)."""
    if reduction == "mean":
        if count == 0:  # the mean of no element: its factor meets none
            return _quotient(grad, 0)
        return grad.dtype.type(float(grad) / count) if grad.ndim == 0 else grad / count
    return grad  # 'sum' (a scalar) or 'none' (one per element)


def _quotient(total, denominator):
    """total / denominator; by 0 (a mean over an empty batch, or over labels all ignored)
    inf or nan as torch's, without NumPy's warning."""
    if denominator == 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.true_divide(total, np.asarray(denominator, np.result_type(total)))
    return total / denominator


def _scaled_graph(grad, reduction: str, count):
    """``_scale`` on a gradient tensor, recorded (``Op.backward_graph``)."""
    return grad / count if reduction == "mean" else grad


def _row_scale_graph(grad, reduction: str, count):
    """A loss over rows' dL/dLᵢ as a column ([n, 1] for 'none', else a scalar tensor)."""
    return grad.reshape(-1, 1) if reduction == "none" else _scaled_graph(grad, reduction, count)


def _target_weights(x, target, weight, ignore_index):
    """(one-hot of the kept targets [n, C], each row's w_{yᵢ} (0 where ignored)) as arrays."""
    n, c = x.shape
    t = target._data
    kept = t != ignore_index
    safe = np.where(kept, t, 0)
    w_target = (weight[safe] if weight is not None else np.ones(n)) * kept
    one_hot = np.zeros((n, c))
    one_hot[np.arange(n), safe] = kept
    return one_hot, w_target


class MSELoss(Op):
    """L = reduce((x - y)²);  dL/dx = 2 (x - y) · r,  dL/dy = -dL/dx."""

    def forward(self, x, y, reduction="mean"):
        self.reduction = reduction
        if reduction != "none" and x.shape == y.shape and accel.usable(x, y, min_size=1):
            # one compiled pass at any size: NumPy's three (and errstate) cost more
            self.diff, total = accel.squared_difference(x, y)
            return np.asarray(total / x.size if reduction == "mean" else total, x.dtype)
        self.diff = x - y
        with np.errstate(over="ignore"):  # a square beyond the dtype's range is inf, quietly
            return _reduce(self.diff * self.diff, reduction)

    def backward(self, grad):
        # 2·(g/N) is exact doubling: the same values as (2·diff)·(g/N), in one pass
        g = _times(self.diff, 2 * _scale(grad, self.reduction, self.diff.size))
        return g if self.needs_input_grad[0] else None, -g if self.needs_input_grad[1] else None

    def backward_graph(self, grad, x, y):
        g = 2 * (x - y) * _scaled_graph(grad, self.reduction, x.numel())
        return g, -g


SCALED = ElementwiseKernel("scaled", reads=("x",), writes=("y",), body="y = x * factor",
                           scalars=("factor",))
"""y = x · c, c rounded to x's dtype: NumPy's product of an array and a scalar of its dtype."""


def _times(a: np.ndarray, factor) -> np.ndarray:
    """a · factor; a scalar factor of a's dtype on a large C-contiguous float array by
    ``SCALED`` over OpenBLAS's threads (from ``PYTHON_SPLIT_MIN`` elements), the same
    values as NumPy's one-thread product."""
    if np.ndim(factor) == 0 and getattr(factor, "dtype", None) == a.dtype and \
            a.size >= accel.PYTHON_SPLIT_MIN and accel.usable(a):
        from ffnn.ops.pointwise import split_call

        out = np.empty_like(a)
        if split_call(SCALED.entry(a.dtype), [a.reshape(-1), out.reshape(-1)],
                      [float(factor)]):
            return out
    return a * factor


L1_LOSS = ElementwiseKernel("l1_loss", reads=("x", "y"), writes=("loss", "sign"), body="""
    d = x - y
    loss = abs(d)
    sign = 1.0 if d > 0.0 else (-1.0 if d < 0.0 else d)
    """)
"""|d| and sign(d), d = x - y, in one pass (NumPy: four, two of them temporaries); the sign
of 0 is 0 and of NaN NaN, as ``np.sign``."""


class L1Loss(Op):
    """L = reduce(|x - y|);  dL/dx = sign(x - y) · r,  dL/dy = -dL/dx."""

    def forward(self, x, y, reduction="mean"):
        self.reduction = reduction
        if x.shape == y.shape and accel.usable(x, y):
            losses, self.sign = np.empty_like(x), np.empty_like(x)
            L1_LOSS(x=x, y=y, loss=losses, sign=self.sign)
            return _reduce(losses, reduction)
        diff = x - y
        self.sign = xp(x).sign(diff)
        return _reduce(xp(x).abs(diff), reduction)

    def backward(self, grad):
        g = self.sign * _scale(grad, self.reduction, self.sign.size)
        return g if self.needs_input_grad[0] else None, -g if self.needs_input_grad[1] else None

    def backward_graph(self, grad, x, y):
        sign = constant_like(x, self.sign)
        g = sign * _scaled_graph(grad, self.reduction, x.numel())
        return g, -g


HUBER_LOSS = ElementwiseKernel("huber_loss", reads=("x", "y"), writes=("loss", "clipped"),
                               scalars=("delta",), body="""
    d = x - y
    a = abs(d)
    loss = 0.5 * d * d if a < delta else delta * (a - 0.5 * delta)
    clipped = -delta if d < -delta else (delta if d > delta else d)
    """)
"""The Huber terms and clip(d, -δ, δ), d = x - y, in one pass (NumPy's ``where`` takes a
branch per element, ~10 ns each on random signs); NaN stays NaN in both."""


class HuberLoss(Op):
    """L = reduce(½d² if |d| < δ else δ(|d| - ½δ)), d = x - y;
    dL/dx = clip(d, -δ, δ) · r,  dL/dy = -dL/dx."""

    def forward(self, x, y, reduction="mean", delta=1.0):
        self.reduction = reduction
        if x.shape == y.shape and accel.usable(x, y):
            losses, self.clipped = np.empty_like(x), np.empty_like(x)
            HUBER_LOSS(x=x, y=y, loss=losses, clipped=self.clipped, delta=delta)
            return _reduce(losses, reduction)
        m = xp(x)
        d = x - y
        abs_d = m.abs(d)
        self.clipped = m.clip(d, -delta, delta)
        with np.errstate(over="ignore"):  # the branch not taken may overflow
            losses = m.where(abs_d < delta, 0.5 * d * d, delta * (abs_d - 0.5 * delta))
        return _reduce(losses.astype(x.dtype, copy=False), reduction)

    def backward(self, grad):
        g = self.clipped * _scale(grad, self.reduction, self.clipped.size)
        return g if self.needs_input_grad[0] else None, -g if self.needs_input_grad[1] else None

    def backward_graph(self, grad, x, y):
        delta = self.options.get("delta", 1.0)
        g = (x - y).clamp(-delta, delta) * _scaled_graph(grad, self.reduction, x.numel())
        return g, -g


def _log_softmax_rows(x) -> tuple:
    """(log softmax of logits [n, c] over the classes, the softmax or None): both from one
    compiled pass a row where it applies (``accel.log_softmax_last``), sparing the backward
    an exp per element."""
    if x.ndim == 2 and accel.on_last_axis(x, 1):
        return accel.log_softmax_last(x, keep=True)
    return log_softmax_array(x, 1), None


class CrossEntropyIndices(Op):
    """Softmax cross-entropy with class indices, fused (stable log-softmax, one pass back).

    With p = softmax(x), class weights w (1 if none), smoothing ε over C classes, and row
    factors aᵢ = (1-ε) w_{yᵢ} rᵢ, bᵢ = (ε/C) rᵢ (rᵢ = 1/Σ_{kept} w_{yₖ} for 'mean'):
    Lᵢ = -aᵢ log p_{i,yᵢ} - bᵢ Σ_c w_c log p_{ic};
    dL/dx_{ij} = p_{ij} (aᵢ + bᵢ Σ_c w_c) - aᵢ [j = yᵢ] - bᵢ w_j.   Rows with yᵢ = ignore_index
    contribute nothing. Matches torch's ``cross_entropy`` including its 'mean' normaliser.
    """

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0):
        n, c = x.shape
        self.fused = None
        if (weight is None and not label_smoothing and reduction != "none" and n > 0
                and target.dtype == np.int64 and accel.usable(x, min_size=1)):
            # the plain case in one compiled pass per row (ffnn.accel); None when a target
            # is outside [0, c) (ignore_index, or out of range: the NumPy path decides)
            self.fused = accel.cross_entropy_forward(x, np.ascontiguousarray(target),
                                                     int(ignore_index))
        if self.fused is not None:
            total, self.prob = self.fused
            self.target, self.reduction = target, reduction
            return np.asarray(total / n if reduction == "mean" else total, x.dtype)
        m = xp(x)
        check_class_labels("cross_entropy", target, c, ignore_index)  # a bad label raises here
        kept = target != ignore_index
        logp, self.prob = _log_softmax_rows(x)
        safe_target = m.where(kept, target, 0)
        rows = m.arange(n)
        w_target = (weight[safe_target] if weight is not None else m.ones(n, x.dtype)) * kept
        nll = -logp[rows, safe_target] * w_target
        if label_smoothing > 0:
            smooth = -(logp * weight).sum(1) if weight is not None else -logp.sum(1)
            smooth = smooth * kept
        else:
            smooth = 0.0
        losses = (1 - label_smoothing) * nll + (label_smoothing / c) * smooth
        self.denominator = w_target.sum()
        self.logp, self.target, self.rows, self.kept = logp, safe_target, rows, kept
        self.w_target, self.weight = w_target, weight
        self.eps, self.reduction = label_smoothing, reduction
        if reduction == "mean":
            return _quotient(losses.sum(), self.denominator).astype(x.dtype)
        return _reduce(losses.astype(x.dtype, copy=False), reduction)

    def backward(self, grad):
        if self.fused is not None:  # dL/dx = r (softmax - one_hot), r = dL/dL̄ (/ n: 'mean')
            n = self.prob.shape[0]
            r = float(grad) / n if self.reduction == "mean" else float(grad)
            return accel.cross_entropy_backward(self.prob, self.target, r), None
        m = xp(grad)
        n, c = self.logp.shape
        r = _quotient(grad, self.denominator) if self.reduction == "mean" else grad
        r = m.broadcast_to(r, (n,)) if m.ndim(r) == 0 else r
        if self.denominator == 0:  # every label ignored: r is inf or nan, ignored rows get 0
            with np.errstate(invalid="ignore"):
                a = m.where(self.kept, (1 - self.eps) * self.w_target * r, 0)
                b = m.where(self.kept, (self.eps / c) * r * self.kept, 0)
        else:
            a = (1 - self.eps) * self.w_target * r
            b = (self.eps / c) * r * self.kept
        w_total = self.weight.sum() if self.weight is not None else c
        prob = m.exp(self.logp) if self.prob is None else self.prob
        g = prob * (a + b * w_total)[:, None]
        g[self.rows, self.target] -= a
        if self.eps > 0:
            g -= b[:, None] * (self.weight if self.weight is not None else 1)
        return g.astype(self.logp.dtype, copy=False), None

    def backward_graph(self, grad, x, target):
        """dL/dx = (p (a + b Σw) - a·onehot - b w) · r on tensors, p = softmax(x) again."""
        options = self.options
        weight, eps = options.get("weight"), options.get("label_smoothing", 0.0)
        one_hot, w_target = _target_weights(x, target, weight, options.get("ignore_index", -100))
        c = x.shape[1]
        w = np.ones(c) if weight is None else weight
        a = (1 - eps) * w_target[:, None]
        b = (eps / c) * one_hot.sum(1)[:, None]  # kept rows only
        fixed = constant_like(x, -a * one_hot - b * w)
        scale = _row_scale_graph(grad, options.get("reduction", "mean"), w_target.sum())
        return (x.softmax(1) * constant_like(x, a + b * w.sum()) + fixed) * scale, None


class CrossEntropyProbs(Op):
    """Softmax cross-entropy against class probabilities t (soft labels), fused.

    Lᵢ = -Σ_c w_c t_{ic} log p_{ic};  dL/dx_{ij} = rᵢ (p_{ij} Σ_c w_c t_{ic} - w_j t_{ij});
    dL/dt_{ij} = -rᵢ w_j log p_{ij} (1 - ε). 'mean' divides by the number of rows, as torch.
    """

    def forward(self, x, target, weight=None, reduction="mean", label_smoothing=0.0):
        c = x.shape[1]
        t = target * (1 - label_smoothing) + label_smoothing / c if label_smoothing else target
        logp, self.prob = _log_softmax_rows(x)
        wt = t * weight if weight is not None else t
        self.logp, self.wt, self.weight = logp, wt, weight
        self.reduction, self.eps = reduction, label_smoothing
        return _reduce(-(logp * wt).sum(1), reduction)

    def backward(self, grad):
        m = xp(grad)
        n = self.logp.shape[0]
        r = _quotient(grad, n) if self.reduction == "mean" else grad
        r = (m.broadcast_to(r, (n,)) if m.ndim(r) == 0 else r)[:, None]
        prob = m.exp(self.logp) if self.prob is None else self.prob
        grad_x = r * (prob * self.wt.sum(1, keepdims=True) - self.wt)
        grad_t = None
        if self.needs_input_grad[1]:
            w = self.weight if self.weight is not None else 1
            grad_t = -r * w * self.logp * (1 - self.eps)
        return grad_x, grad_t

    def backward_graph(self, grad, x, target):
        c, weight = x.shape[1], self.options.get("weight")
        t = target * (1 - self.eps) + self.eps / c if self.eps else target
        wt = t * constant_like(x, weight) if weight is not None else t
        scale = _row_scale_graph(grad, self.reduction, x.shape[0])
        grad_x = (x.softmax(1) * wt.sum(1, keepdim=True) - wt) * scale
        grad_t = None
        if self.needs_input_grad[1]:
            w = constant_like(x, weight) if weight is not None else 1.0
            grad_t = -(x.log_softmax(1) * w) * (1 - self.eps) * scale
        return grad_x, grad_t


class NLLLoss(Op):
    """L = reduce(-w_{yᵢ} x_{i,yᵢ}) on log-probabilities x [n, C];
    dL/dx_{i,yᵢ} = -w_{yᵢ} rᵢ. Each x_{i,yᵢ} is read at its flat position i·C + yᵢ (a
    ``take``: 2.5x quicker than indexing with two arrays, 4x for the gradient's writes)."""

    def forward(self, x, target, weight=None, ignore_index=-100, reduction="mean"):
        m = xp(x)
        n = x.shape[0]
        kept = target != ignore_index
        safe_target = m.where(kept, target, 0)
        w_target = (weight[safe_target] if weight is not None else m.ones(n, x.dtype)) * kept
        self.positions = m.arange(n) * x.shape[1] + safe_target
        losses = -x.reshape(-1).take(self.positions) * w_target
        self.shape = x.shape
        self.w_target, self.reduction, self.denominator = w_target, reduction, w_target.sum()
        self.kept = kept
        if reduction == "mean":
            return _quotient(losses.sum(), self.denominator).astype(x.dtype)
        return _reduce(losses.astype(x.dtype, copy=False), reduction)

    def backward(self, grad):
        m = xp(grad)
        r = _quotient(grad, self.denominator) if self.reduction == "mean" else grad
        g = m.zeros(self.shape, dtype=self.w_target.dtype)
        if self.denominator == 0:  # every label ignored: no gradient (torch's), not nan
            with np.errstate(invalid="ignore"):
                values = m.where(self.kept, -self.w_target * r, 0)
        else:
            values = -self.w_target * r
        g.reshape(-1)[self.positions] = values
        return g, None

    def backward_graph(self, grad, x, target):
        options = self.options
        one_hot, w_target = _target_weights(x, target, options.get("weight"),
                                            options.get("ignore_index", -100))
        scale = _row_scale_graph(grad, options.get("reduction", "mean"), w_target.sum())
        return constant_like(x, -one_hot * w_target[:, None]) * scale, None


BCE_EPSILON = float(np.float32(1e-12))
"""torch's floor under p(1 - p) in BCE's gradient: 1e-12 as a float32 (in float64 too)."""

BCE_GRAD = ElementwiseKernel("bce_grad", reads=("p", "y"), writes=("g",),
                             scalars=("r", "epsilon"), body="""
    g = (p - y) / max((1.0 - p) * p, epsilon) * r
    """)
"""dL/dp = (p - y) / max(p(1-p), ε) · r in one pass (NumPy: five)."""


class BCELoss(Op):
    """L = reduce(-w (y log p + (1-y) log(1-p))), logs clamped at -100 as torch;
    dL/dp = w (p - y) / max(p(1-p), ε) · r (ε = ``BCE_EPSILON``),
    dL/dy = -w logit(p) · r (unclamped: ±inf at p = 0 or 1, as torch's)."""

    def forward(self, p, y, weight=None, reduction="mean"):
        m = xp(p)
        self.p, self.y, self.weight, self.reduction = p, y, weight, reduction
        self.compiled = p.shape == y.shape and accel.usable(p, y)
        log_p, log_1mp = _clamped_logs(m, p)  # NumPy's SIMD log (in a loop: libm's, 2x slower)
        losses = -(y * log_p + (1 - y) * log_1mp)
        if weight is not None:
            losses = losses * weight
        return _reduce(losses.astype(p.dtype, copy=False), reduction)

    def backward(self, grad):
        m = xp(grad)
        p, y = self.p, self.y
        r = _scale(grad, self.reduction, p.size)
        if self.compiled and np.ndim(r) == 0:
            g = np.empty_like(p)
            BCE_GRAD(p=p, y=y, g=g, r=float(r), epsilon=BCE_EPSILON)
        else:
            g = (p - y) / m.maximum((1 - p) * p, BCE_EPSILON) * r
        if self.weight is not None:
            g = g * self.weight
        grad_y = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                grad_y = (m.log1p(-p) - m.log(p)) * r
            grad_y = grad_y * self.weight if self.weight is not None else grad_y
        return g.astype(p.dtype, copy=False), grad_y

    def backward_graph(self, grad, p, y):
        weight = self.options.get("weight")
        w = constant_like(p, weight) if weight is not None else 1.0
        scale = _scaled_graph(grad, self.reduction, p.numel())
        grad_p = w * (p - y) / ((1 - p) * p).clamp(min=BCE_EPSILON) * scale
        grad_y = -w * (p.log() - (1 - p).log()) * scale if self.needs_input_grad[1] else None
        return grad_p, grad_y


def _clamped_logs(m, p):
    """(log p, log(1 - p)) clamped at -100 as torch's BCELoss, without NumPy's warning for
    the log of 0 (a saturated sigmoid gives p = 0 or 1)."""
    with np.errstate(divide="ignore"):
        return m.maximum(m.log(p), -100), m.maximum(m.log1p(-p), -100)


BCE_WITH_LOGITS = ElementwiseKernel("bce_with_logits", reads=("x", "y"), writes=("loss",),
                                    body="""
    e = exp_small(-abs(x))
    loss = (1.0 - y) * x + (log1p(e) + max(-x, 0.0))
    """)
"""Lᵢ = (1 - y) x + softplus(-x), softplus(-x) = log(1 + e^{-|x|}) + max(-x, 0): the NumPy
path's formula without weights, its exp and log1p the vectorising polynomials."""

BCE_WITH_LOGITS_GRAD = ElementwiseKernel("bce_with_logits_grad", reads=("x", "y"),
                                         writes=("g",), scalars=("r",), body="""
    e = exp_small(-abs(x))
    g = ((1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)) - y) * r
    """)
"""dL/dx = (σ(x) - y) · r, σ(x) = 1/(1 + e^{-|x|}) or e^{-|x|}/(1 + e^{-|x|}) by the sign
(``stable_sigmoid``), r = dL/dL̄ times the reduction's factor."""


class BCEWithLogitsLoss(Op):
    """Sigmoid + binary cross-entropy, fused and stable for any logit x:
    Lᵢ = w ((1-y) x + (1 + (q-1) y) softplus(-x)), q = pos_weight, softplus(z) = log(1 + eᶻ);
    dL/dx = w ((1 + (q-1) y) σ(x) - q y) · r."""

    def forward(self, x, y, weight=None, pos_weight=None, reduction="mean"):
        m = xp(x)
        self.x, self.y, self.weight, self.pos_weight = x, y, weight, pos_weight
        self.reduction = reduction
        self.compiled = weight is None and pos_weight is None and x.shape == y.shape and \
            accel.usable(x, y)
        if self.compiled:  # NumPy's float32 log1p is one libm call per element
            losses = np.empty_like(x)
            BCE_WITH_LOGITS(x=x, y=y, loss=losses)
            return _reduce(losses, reduction)
        softplus_neg = m.log1p(m.exp(-m.abs(x))) + m.maximum(-x, 0)
        log_weight = 1 + (pos_weight - 1) * y if pos_weight is not None else 1
        losses = (1 - y) * x + log_weight * softplus_neg
        if weight is not None:
            losses = losses * weight
        self.softplus_neg = softplus_neg
        return _reduce(losses.astype(x.dtype, copy=False), reduction)

    def backward(self, grad):
        x, y, q = self.x, self.y, self.pos_weight
        r = _scale(grad, self.reduction, x.size)
        if self.compiled and np.ndim(r) == 0:
            g = np.empty_like(x)
            BCE_WITH_LOGITS_GRAD(x=x, y=y, g=g, r=float(r))
        else:
            s = stable_sigmoid(x)
            g = ((1 + (q - 1) * y) * s - q * y) if q is not None else (s - y)
            g = g * r
        if self.weight is not None:
            g = g * self.weight
        grad_y = None
        if self.needs_input_grad[1]:
            # dL/dy = -x + (q-1) softplus(-x) with weights; torch treats y as differentiable too
            grad_y = (-x + ((q - 1) * self.softplus_neg if q is not None else 0)) * r
            grad_y = grad_y * self.weight if self.weight is not None else grad_y
        return g.astype(x.dtype, copy=False), grad_y

    def backward_graph(self, grad, x, y):
        weight, pos_weight = self.options.get("weight"), self.options.get("pos_weight")
        w = constant_like(x, weight) if weight is not None else 1.0
        q = constant_like(x, pos_weight) if pos_weight is not None else 1.0
        scale = _scaled_graph(grad, self.reduction, x.numel())
        grad_x = w * ((1 + (q - 1) * y) * x.sigmoid() - q * y) * scale
        grad_y = None
        if self.needs_input_grad[1]:
            softplus_neg = (-x).clamp(min=0) + (-x.abs()).exp().log1p()
            grad_y = w * ((q - 1) * softplus_neg - x) * scale
        return grad_x, grad_y
