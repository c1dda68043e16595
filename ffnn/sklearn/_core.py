"""How the estimators configure the Trainer: their optimizer over the flat buffer, the L2
penalty (or AdamW's decoupled decay), and scikit-learn's per-epoch rules as a callback.

``BaseFFNN`` trains with :class:`ffnn.train.Trainer`, the one training loop of ffnn (the
graph-free fast step included); what is particular to scikit-learn's MLP lives here:

* the optimizer over the flat buffer: ``ffnn.optim.flat.FlatOptimizer``;
* :class:`L2Penalty`: ``α/(2 Σw) · Σ_layers ‖W‖²`` (its gradient ``α/Σw · W`` added after
  backward, its value in the logged loss), :class:`DecoupledDecay`: ``W ← W·(1 - lr·α)``;
* :class:`FlatRollback`: the divergence guard, one copy of the flat buffer per epoch;
* :class:`SklearnEpochs`: the lr of each epoch (constant / adaptive / cosine), the
  ``tol`` / ``n_iter_no_change`` rule on the training loss or a held-out score, and the
  fitted attributes ``n_iter_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ffnn.optim.flat import FlatParameters
from ffnn.train.callbacks import Callback, TerminateOnNaN, copy_weights


class L2Penalty:
    """``penalty(Σw)``: adds ``α/Σw · W`` to the weights' gradient and returns
    ``½ α ‖W‖² / Σw`` (W: every Linear weight, ``flat._data[:n_weights]``)."""

    def __init__(self, flat: FlatParameters, alpha: float):
        self.alpha = float(alpha)
        self.weights = flat.flat._data[:flat.n_weights]
        self.weights_grad = flat.flat._grad[:flat.n_weights]
        self.scratch = np.empty_like(self.weights)

    def weight_l2(self, weight_sum: float) -> float:
        """λ = α/Σw: the penalty is ``½ λ Σ‖W‖²`` over the Linear weights (the Trainer's
        fused step computes it so)."""
        return self.alpha / weight_sum

    def __call__(self, weight_sum: float) -> float:
        np.multiply(self.weights, self.alpha / weight_sum, out=self.scratch)
        self.weights_grad += self.scratch
        return 0.5 * self.alpha * float(np.dot(self.weights, self.weights)) / weight_sum


class DecoupledDecay:
    """``penalty(Σw)`` for ``solver='adamw'``: ``W ← W·(1 - lr·α)`` before the Adam step;
    nothing is added to the loss."""

    def __init__(self, flat: FlatParameters, alpha: float, optimizer):
        self.alpha, self.optimizer = float(alpha), optimizer
        self.weights = flat.flat._data[:flat.n_weights]

    def __call__(self, weight_sum: float) -> float:
        self.weights *= 1.0 - self.optimizer.param_groups[0]["lr"] * self.alpha
        return 0.0


class FlatRollback(TerminateOnNaN):
    """The estimators' divergence guard: ``TerminateOnNaN(restore='epoch', warn=False)`` whose
    snapshot is one copy of the flat parameter buffer (plus any buffers, e.g. batch norm's
    running statistics) instead of a walk over the model's state each epoch. As
    scikit-learn's MLP, it checks the epoch's mean loss once, at the epoch's end (non-finite
    when any batch's loss was), not every batch."""

    on_train_batch_begin = Callback.on_train_batch_begin  # nothing to do between batches
    on_train_batch_end = Callback.on_train_batch_end

    def __init__(self, flat: FlatParameters):
        super().__init__(restore="epoch", warn=False)
        self.flat = flat

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        self._stop(None, loss)

    def on_train_begin(self, logs=None):
        self.buffers = list(self.model.buffers())  # the estimator's network stays as built
        super().on_train_begin(logs)

    def _arrays(self) -> list[np.ndarray]:
        return [self.flat.flat._data, *(b._data for b in self.buffers)]

    def snapshot(self, into=None) -> list[np.ndarray]:
        if into is None:
            return [a.copy() for a in self._arrays()]
        for target, array in zip(into, self._arrays()):
            np.copyto(target, array)
        return into

    def restore_snapshot(self, saved: list[np.ndarray]) -> None:
        for target, array in zip(self._arrays(), saved):
            np.copyto(target, array)


class SklearnEpochs(Callback):
    """scikit-learn's MLP rules around each epoch of ``estimator``'s Trainer run.

    Before an epoch: its lr, ``lr₀ · ½(1 + cos(π t / max_iter))`` for 'cosine' (t: epochs
    trained so far), else the current (constant, or ÷ 5 by 'adaptive'). After an epoch with a
    finite loss: ``n_iter_``, ``t_``, ``loss_``, ``loss_curve_``; the no-improvement count
    (loss not below ``best_loss_ - tol``, or with ``validation`` a score not above
    ``best_validation_score_ + tol``); past ``n_iter_no_change``: lr ÷ 5 for 'adaptive'
    (down to 1e-6), else stop. The best validation weights are kept in ``best_weights``.
    """

    def __init__(self, estimator, n_rows: int, validation=None, incremental: bool = False):
        self.estimator, self.n_rows = estimator, n_rows
        self.validation, self.incremental = validation, incremental
        self.best_weights = None

    def on_epoch_begin(self, epoch, logs=None):
        est = self.estimator
        lr = est._learning_rate
        if est.lr_schedule == "cosine":
            t = min(est._epoch, est.max_iter)
            lr = est.learning_rate_init * 0.5 * (1 + math.cos(math.pi * t / est.max_iter))
        for group in self.trainer.optimizer.param_groups:
            group["lr"] = lr

    def on_epoch_end(self, epoch, logs=None):
        loss = float(logs["loss"])
        if not math.isfinite(loss):  # TerminateOnNaN has restored the epoch's start
            return
        est = self.estimator
        est.n_iter_ += 1
        est._epoch += 1
        est.t_ += self.n_rows
        est.loss_ = loss
        est.loss_curve_.append(loss)
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.validation is not None:
            self._track_validation(*self.validation)
        else:
            self._track_loss(loss)
        if est._no_improvement_count > est.n_iter_no_change:
            self._no_improvement()
        if not self.incremental and est.n_iter_ == est.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                          "reached and the optimization hasn't converged yet.",
                          ConvergenceWarning, stacklevel=8)  # at the caller of fit()

    def _no_improvement(self) -> None:
        est = self.estimator
        if est.lr_schedule == "adaptive" and est._learning_rate > 1e-6:
            est._learning_rate /= 5.0
            est._no_improvement_count = 0
            return
        if est.verbose:
            print(f"{'Validation score' if self.validation else 'Training loss'} did not "
                  f"improve more than tol={est.tol} for {est.n_iter_no_change} consecutive "
                  "epochs. Stopping.")
        self.trainer.stop_training = True

    def _track_loss(self, loss: float) -> None:
        """Count epochs whose loss is not below best - tol."""
        est = self.estimator
        est._no_improvement_count = (
            est._no_improvement_count + 1 if loss > est.best_loss_ - est.tol else 0)
        est.best_loss_ = min(est.best_loss_, loss)

    def _track_validation(self, X_val, y_val, w_val) -> None:
        """Score the held-out rows; count epochs whose score is not above best + tol."""
        est = self.estimator
        score = est._score_prepared(X_val, y_val, w_val)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        est._no_improvement_count = (
            est._no_improvement_count + 1
            if score < est.best_validation_score_ + est.tol else 0)
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            self.best_weights = copy_weights(self.model, self.best_weights)
