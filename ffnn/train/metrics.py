"""Metrics as pure NumPy functions, with scikit-learn's definitions, and their string names.

Classification metrics take ``y_pred`` as labels [n] (integers), or as scores: [n, k] class
scores (label = argmax) or [n] / [n, 1] float probabilities of class 1 (label = p > 0.5).
Regression metrics take [n] or [n, k] arrays and average uniformly over outputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np


def _as_labels(y_pred) -> np.ndarray:
    """Labels from labels or scores: argmax of [n, k>1]; p > 0.5 of float [n] or [n, 1]."""
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        return y_pred.argmax(axis=1)
    y_pred = y_pred.reshape(-1)
    if y_pred.dtype.kind == "f":
        return (y_pred > 0.5).astype(np.int64)
    return y_pred


def _true_labels(y_true) -> np.ndarray:
    """Class indices from indices [n] or one-hot / probability rows [n, k]."""
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        return y_true.argmax(axis=1)
    y_true = y_true.reshape(-1)
    return y_true.astype(np.int64) if y_true.dtype.kind in "fb" else y_true


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = _true_labels(y_true), _as_labels(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must hold one label per sample. Received: "
                         f"y_true with shape {np.shape(y_true)}, y_pred with shape "
                         f"{np.shape(y_pred)}")
    return t, p


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted label equals the true one: mean(ŷᵢ = yᵢ)."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p)) if t.size else float("nan")


def top_k_accuracy(y_true, y_score, k: int = 5) -> float:
    """Fraction of samples whose true class is among the k highest scores; y_score [n, C]."""
    t = _true_labels(y_true)
    y_score = np.asarray(y_score)
    if y_score.ndim != 2 or y_score.shape[0] != t.shape[0]:
        raise ValueError(f"top_k_accuracy needs y_score of shape [n_samples, n_classes] = "
                         f"[{t.shape[0]}, C]. Received: y_score with shape {y_score.shape}")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"top_k_accuracy: k must be a positive integer. Received: k={k!r}")
    if k >= y_score.shape[1]:
        return 1.0
    # ties broken like scikit-learn: a class counts if fewer than k classes score strictly higher
    true_score = y_score[np.arange(t.shape[0]), t]
    higher = (y_score > true_score[:, None]).sum(axis=1)
    return float(np.mean(higher < k))


def confusion_matrix(y_true, y_pred, num_classes: int | None = None) -> np.ndarray:
    """C[i, j] = number of samples of true class i predicted as class j; int64 [K, K].

    Classes are ``0..num_classes-1`` when given, else the sorted labels seen in either input.
    """
    t, p = _pair(y_true, y_pred)
    if num_classes is None:
        labels, codes = np.unique(np.concatenate([t, p]), return_inverse=True)
        k = labels.size
        t, p = codes[: t.size], codes[t.size:]
    else:
        k = int(num_classes)
        if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= k):
            raise ValueError(f"confusion_matrix: labels must lie in [0, {k}). Received: labels "
                             f"from {min(t.min(), p.min())} to {max(t.max(), p.max())}")
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)


def _per_class_counts(y_true, y_pred) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True positives, predicted counts and true counts per class (labels of either input)."""
    cm = confusion_matrix(y_true, y_pred)
    return np.diag(cm).astype(np.float64), cm.sum(axis=0).astype(np.float64), \
        cm.sum(axis=1).astype(np.float64)


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (scikit-learn's zero_division=0)."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _average(values: np.ndarray, average: str | None, name: str):
    if average == "macro":
        return float(values.mean()) if values.size else 0.0
    if average is None:
        return values
    raise ValueError(f"{name}: average must be 'macro' or None (per class). "
                     f"Received: average={average!r}")


def precision(y_true, y_pred, average: str | None = "macro"):
    """Precision TP / (TP + FP) per class, averaged without weights (macro) by default."""
    tp, predicted, _ = _per_class_counts(y_true, y_pred)
    return _average(_safe_divide(tp, predicted), average, "precision")


def recall(y_true, y_pred, average: str | None = "macro"):
    """Recall TP / (TP + FN) per class, macro-averaged by default."""
    tp, _, actual = _per_class_counts(y_true, y_pred)
    return _average(_safe_divide(tp, actual), average, "recall")


def f1_score(y_true, y_pred, average: str | None = "macro"):
    """F1 = 2·TP / (2·TP + FP + FN) per class (harmonic mean of precision and recall)."""
    tp, predicted, actual = _per_class_counts(y_true, y_pred)
    return _average(_safe_divide(2 * tp, predicted + actual), average, "f1_score")


def _regression_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim == 1 and p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same shape. Received: y_true with "
                         f"shape {t.shape}, y_pred with shape {p.shape}")
    return t.reshape(t.shape[0], -1), p.reshape(p.shape[0], -1)


def mean_squared_error(y_true, y_pred) -> float:
    """MSE = mean((ŷ - y)²), averaged over outputs."""
    t, p = _regression_pair(y_true, y_pred)
    return float(np.mean((p - t) ** 2))


def mean_absolute_error(y_true, y_pred) -> float:
    """MAE = mean(|ŷ - y|), averaged over outputs."""
    t, p = _regression_pair(y_true, y_pred)
    return float(np.mean(np.abs(p - t)))


def r2_score(y_true, y_pred) -> float:
    """R² = 1 - Σ(y - ŷ)² / Σ(y - ȳ)² per output, averaged (constant y: 1 if exact, else 0)."""
    t, p = _regression_pair(y_true, y_pred)
    ss_res = ((t - p) ** 2).sum(axis=0)
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    score = np.where(ss_tot > 0, 1.0 - _safe_divide(ss_res, ss_tot), (ss_res == 0) * 1.0)
    return float(score.mean())


class Metric:
    """A named scalar metric ``fn(y_true, y_pred) -> float`` and whether higher is better."""

    def __init__(self, name: str, fn: Callable, greater_is_better: bool):
        self.name, self.fn, self.greater_is_better = name, fn, greater_is_better

    def __call__(self, y_true, y_pred) -> float:
        return float(self.fn(y_true, y_pred))

    def __repr__(self) -> str:
        return f"Metric({self.name!r})"


_METRICS: dict[str, tuple[Callable, bool]] = {
    "accuracy": (accuracy, True), "acc": (accuracy, True),
    "precision": (precision, True), "recall": (recall, True),
    "f1": (f1_score, True), "f1_score": (f1_score, True),
    "mse": (mean_squared_error, False), "mean_squared_error": (mean_squared_error, False),
    "mae": (mean_absolute_error, False), "mean_absolute_error": (mean_absolute_error, False),
    "r2": (r2_score, True), "r2_score": (r2_score, True),
}
_TOP_K = re.compile(r"top_?(\d+)_accuracy")


def get_metric(metric: str | Callable | Metric) -> Metric:
    """A :class:`Metric` from a name ('accuracy', 'top5_accuracy', 'precision', 'recall',
    'f1', 'mse', 'mae', 'r2'), a Metric, or a callable ``fn(y_true, y_pred)`` (named
    ``fn.__name__``, assumed higher-is-better unless its name ends in 'error' or 'loss')."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        key = metric.lower()
        if key in _METRICS:
            fn, greater = _METRICS[key]
            return Metric(metric, fn, greater)
        match = _TOP_K.fullmatch(key)
        if match:
            k = int(match.group(1))
            return Metric(metric, lambda t, p: top_k_accuracy(t, p, k), True)
        names = sorted(_METRICS) + ["top5_accuracy (any k)"]
        raise ValueError(f"Unknown metric {metric!r}; known names: {names}. "
                         f"Received: metric={metric!r}")
    if callable(metric):
        name = getattr(metric, "__name__", type(metric).__name__)
        lower = name.lower()
        return Metric(name, metric, not (lower.endswith("error") or lower.endswith("loss")))
    raise TypeError(f"A metric must be a name or a callable fn(y_true, y_pred). "
                    f"Received: metric={metric!r} ({type(metric).__name__})")


def greater_is_better(name: str) -> bool | None:
    """Direction of a logged quantity ('loss', 'val_accuracy', ...): None when unknown."""
    base = name[4:] if name.startswith("val_") else name
    if "loss" in base or base.endswith("error"):
        return False
    if base in _METRICS:
        return _METRICS[base][1]
    if _TOP_K.fullmatch(base):
        return True
    return None
