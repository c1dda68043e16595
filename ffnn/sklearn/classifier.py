"""``FFNNClassifier``: softmax cross-entropy for one label, sigmoid + BCE for many."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d, validate_data

from ffnn.compiler.chain import loss_backward, register_loss
from ffnn.ops.activations import log_softmax_array, stable_sigmoid
from ffnn.ops.losses import BCEWithLogitsLoss, CrossEntropyIndices, CrossEntropyProbs
from ffnn.sklearn._base import BaseFFNN
from ffnn.tensor import Tensor


class SoftmaxLoss:
    """``loss(z, y, w=None) = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ`` (w = 1 when absent), ℓ the softmax
    cross-entropy of logits z [n, C] and class indices y [n]: the fused op with indices when
    unweighted; with weights, against one-hot rows scaled by n·wᵢ/Σw (its 'mean' then gives
    the weighted mean)."""

    task = "multiclass"

    def __init__(self, n_classes: int, dtype: np.dtype):
        self.n_classes, self.dtype = n_classes, dtype

    def __call__(self, output: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        if weight is None:
            return CrossEntropyIndices.apply(output, target)
        w = weight._data
        w = (w / float(w.sum())).astype(self.dtype)
        rows = np.eye(self.n_classes, dtype=self.dtype)[target._data]
        return CrossEntropyProbs.apply(
            output, Tensor._make(rows * (w * len(w))[:, None], False, None))


def _softmax_fast_step(loss: SoftmaxLoss, target: np.ndarray):
    """The unweighted loss for the graph-free step: the same op on arrays."""
    if target.ndim != 1:
        return None
    return lambda out: loss_backward(CrossEntropyIndices, out, target)


register_loss(SoftmaxLoss, _softmax_fast_step, fused=lambda loss: ("cross_entropy", True, 1.0))


class MultiLabelLoss:
    """``loss(z, Y, w=None) = Σ_labels Σᵢ wᵢ BCE(zᵢ, Yᵢ) / Σᵢ wᵢ`` for logits and an indicator
    matrix [n, L] (through the graph)."""

    def __call__(self, output: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        if weight is None:
            w = 1.0 / len(target._data)
        else:
            w = weight._data
            w = (w / float(w.sum())).astype(output._data.dtype)[:, None]
        return BCEWithLogitsLoss.apply(output, target, weight=w, reduction="sum")


class FFNNClassifier(ClassifierMixin, BaseFFNN):
    """Multi-layer perceptron classifier on the ffnn engine, with ``MLPClassifier``'s API.

    One label (binary or multiclass): ``n_classes`` logits, ``p = softmax(z)``, loss
    ``-Σᵢ wᵢ log p_{i,yᵢ} / Σᵢ wᵢ``. Multi-label (an indicator matrix y [n, L]): L logits,
    ``p = σ(z)``, loss ``Σ_labels`` of the weighted mean binary cross-entropy.
    Predictions are computed in float64 from the trained weights.
    Parameters are ``MLPClassifier``'s (see ``BaseFFNN`` for the loss and penalty), plus
    ``solver='adamw'``, ``lr_schedule`` ('constant', 'adaptive': lr ÷ 5 on a plateau, 'cosine'
    over ``max_iter`` epochs), ``dropout`` (after each hidden activation), ``batch_norm``
    (after each hidden Linear), ``class_weight`` (None, 'balanced' or {label: weight}),
    ``standardize`` (z-score the inputs with statistics of the first fit) and ``dtype``.
    Fitted: ``classes_``, ``n_features_in_``, ``feature_names_in_``, ``loss_curve_``,
    ``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``coefs_``,
    ``intercepts_``, ``model_`` (the ``ffnn.nn.Sequential``), ``scaler_``.
    """

    _parameter_constraints: dict = {
        **BaseFFNN._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate_init=0.001,
                 lr_schedule="constant", max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, dropout=0.0,
                 batch_norm=False, class_weight=None, standardize=False, dtype="float32"):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate_init=learning_rate_init, lr_schedule=lr_schedule, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            dropout=dropout, batch_norm=batch_norm, standardize=standardize, dtype=dtype)
        self.class_weight = class_weight

    # ----- public API ---------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None) -> FFNNClassifier:
        """Train on X [n, n_features] and labels y [n] (or an indicator matrix [n, L])."""
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None) -> FFNNClassifier:
        """One epoch over (X, y); ``classes`` (all labels) is required on the first call."""
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities [n, n_classes] (softmax), or label probabilities [n, L] (σ)."""
        out = self._forward(X)
        return stable_sigmoid(out) if self._multilabel else np.exp(log_softmax_array(out, 1))

    def predict_log_proba(self, X) -> np.ndarray:
        """log of :meth:`predict_proba`, computed stably."""
        out = self._forward(X)
        if self._multilabel:
            return -np.logaddexp(0, -out)
        return log_softmax_array(out, 1)

    def predict(self, X) -> np.ndarray:
        """Labels [n] (the most probable class) or an indicator matrix [n, L] (p > 0.5)."""
        return self._labels(self._forward(X))

    # ----- internals ------------------------------------------------------------------------
    def _labels(self, out: np.ndarray) -> np.ndarray:
        if self._multilabel:
            return (out > 0).astype(self._label_dtype)
        return self.classes_[np.argmax(out, axis=1)]

    def _validate_targets(self, X, y, first: bool, classes=None):
        X, y = validate_data(self, X, y, reset=first, dtype=(np.float64, np.float32),
                             multi_output=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"{type(self).__name__} supports one label per sample or a "
                             f"multi-label indicator matrix. Received: y of type {kind!r}")
        multilabel = kind == "multilabel-indicator" or (y.ndim == 2 and y.shape[1] > 1)
        if first:
            self._set_classes(y, multilabel, classes)
        else:
            self._check_same_classes(y, multilabel, classes)
        if multilabel:
            return X, y.astype(self._np_dtype)
        return X, np.searchsorted(self.classes_, y).astype(np.int64)

    def _set_classes(self, y, multilabel: bool, classes) -> None:
        self._multilabel = multilabel
        self._stratify = not multilabel
        if multilabel:
            self.classes_ = np.arange(y.shape[1])
            self._label_dtype = y.dtype
        else:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            unknown = np.setdiff1d(y, self.classes_)
            if unknown.size:
                raise ValueError(f"y has labels {unknown.tolist()} that are not in classes="
                                 f"{self.classes_.tolist()}")
        self.n_outputs_ = len(self.classes_)

    def _check_same_classes(self, y, multilabel: bool, classes) -> None:
        if classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={np.unique(classes).tolist()} is not the same as on "
                             f"the first call, which was {self.classes_.tolist()}")
        if multilabel != self._multilabel or (multilabel and y.shape[1] != self.n_outputs_):
            raise ValueError("y must have the same kind of labels as in the first fit "
                             f"({self.n_outputs_} {'labels' if self._multilabel else 'classes'})"
                             f". Received: y of shape {y.shape}")
        if not multilabel:
            unknown = np.setdiff1d(y, self.classes_)
            if unknown.size:
                raise ValueError(f"y has labels {unknown.tolist()} that are not in classes_ "
                                 f"{self.classes_.tolist()} (fitted before; refit with "
                                 "warm_start=False to change the classes)")

    def _sample_weight(self, y, sample_weight):
        """sample_weight · class_weight[y] (None when both are absent)."""
        if self.class_weight is None:
            return sample_weight
        if self._multilabel:
            raise ValueError("class_weight is not supported for multi-label targets. Received: "
                             f"class_weight={self.class_weight!r}")
        n_classes = len(self.classes_)
        if self.class_weight == "balanced":  # n / (n_classes_present · count)
            counts = np.bincount(y, minlength=n_classes).astype(np.float64)
            present = counts > 0
            weights = np.zeros(n_classes)
            weights[present] = len(y) / (present.sum() * counts[present])
        else:
            weights = np.ones(n_classes)
            for label, value in self.class_weight.items():
                index = np.flatnonzero(self.classes_ == label)
                if index.size == 0:
                    raise ValueError(f"class_weight has label {label!r}, which is not in "
                                     f"classes_ {self.classes_.tolist()}")
                weights[index[0]] = value
        per_sample = weights[y]
        return per_sample if sample_weight is None else sample_weight * per_sample

    def _training_target(self, y: np.ndarray) -> np.ndarray:
        """Class indices (int64) for one label; the indicator matrix for many."""
        if self._multilabel:
            return y
        return np.asarray(y, dtype=np.int64)

    def _make_loss(self):
        """Softmax cross-entropy for one label, summed per-label BCE for many."""
        if self._multilabel:
            return MultiLabelLoss()
        return SoftmaxLoss(self.n_outputs_, self._np_dtype)

    def _score_prepared(self, X, y, sample_weight) -> float:
        out = self._eval_output(X)
        if self._multilabel:
            correct = np.all((out > 0) == (y > 0.5), axis=1)
        else:
            correct = np.argmax(out, axis=1) == y
        return float(np.average(correct, weights=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
