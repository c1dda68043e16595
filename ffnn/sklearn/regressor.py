"""``FFNNRegressor``: half squared error, one or many outputs."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import validate_data

from ffnn.compiler.chain import loss_backward, register_loss
from ffnn.ops.losses import MSELoss
from ffnn.sklearn._base import BaseFFNN
from ffnn.tensor import Tensor


class HalfSquaredError:
    """``loss(ŷ, y, w=None) = Σᵢ wᵢ · ½ mean_j (ŷᵢⱼ - yᵢⱼ)² / Σᵢ wᵢ`` (w = 1 when absent);
    ŷ, y [n, k]."""

    def __call__(self, output: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        if weight is None:
            return MSELoss.apply(output, target) * 0.5
        w = weight._data
        w = (w / float(w.sum())).astype(output._data.dtype)
        scale = w[:, None] * (0.5 / target.shape[1])
        losses = MSELoss.apply(output, target, reduction="none")
        return (losses * Tensor._make(scale, False, None)).sum()


def _half_mse_fast_step(loss: HalfSquaredError, target: np.ndarray):
    """The unweighted loss for the graph-free step: ``MSELoss`` times ½ (exact, so the
    graph's product by the constant gives the same bits)."""
    return lambda out: (loss_backward(MSELoss, out, target, scale=0.5)
                        if out.shape == target.shape else None)


register_loss(HalfSquaredError, _half_mse_fast_step, fused=lambda loss: ("mse", True, 0.5))


class FFNNRegressor(RegressorMixin, BaseFFNN):
    """Multi-layer perceptron regressor on the ffnn engine, with ``MLPRegressor``'s API.

    Identity output; loss ``Σᵢ wᵢ · ½ mean_j (ŷᵢⱼ - yᵢⱼ)² / Σᵢ wᵢ`` (scikit-learn's
    squared loss) plus the L2 penalty of ``BaseFFNN``. y of shape [n] or [n, n_outputs];
    ``predict`` returns the same shape, in float64. Parameters and fitted attributes are
    those of ``FFNNClassifier`` without ``class_weight`` and ``classes_``.
    """

    def fit(self, X, y, sample_weight=None) -> FFNNRegressor:
        """Train on X [n, n_features] and targets y [n] or [n, n_outputs]."""
        return self._fit(X, y, sample_weight)

    def partial_fit(self, X, y, sample_weight=None) -> FFNNRegressor:
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """Predictions [n] or [n, n_outputs] (the shape of the training y), float64."""
        out = self._forward(X)
        return out[:, 0] if self._y_1d else out

    def _validate_targets(self, X, y, first: bool, classes=None):
        X, y = validate_data(self, X, y, reset=first, dtype=(np.float64, np.float32),
                             multi_output=True, y_numeric=True)
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        if first:
            self._y_1d = y.ndim == 1
            self.n_outputs_ = y2.shape[1]
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(f"y must have {self.n_outputs_} output(s) as in the first fit. "
                             f"Received: y of shape {y.shape}")
        return X, np.ascontiguousarray(y2, dtype=self._np_dtype)

    def _make_loss(self):
        return HalfSquaredError()

    def _score_prepared(self, X, y, sample_weight) -> float:
        out = self._eval_output(X)
        return float(r2_score(y, out, sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
