"""What the two estimators share: parameters, input checks, and how they train.

Training is scikit-learn's MLP loop (epochs of shuffled minibatches; ``tol`` /
``n_iter_no_change`` on the training loss or, with ``early_stopping``, on a held-out score)
run by ffnn's one training loop, :class:`ffnn.train.Trainer`: an ``ffnn.nn.Sequential``
trained by ``ffnn.optim`` with every parameter packed in one flat buffer (see
``ffnn.optim.flat``), configured as ``_core`` describes.

Loss per batch (weights wᵢ = sample_weight · class_weight, 1 when absent):
``L = Σᵢ wᵢ ℓᵢ / Σᵢ wᵢ + α/(2 Σᵢ wᵢ) · Σ_layers ‖W‖²`` — scikit-learn's penalty, on the Linear
weights only. With ``solver='adamw'``, α is instead AdamW's decoupled weight decay
(``W ← W·(1 - lr·α)`` each step) and is not part of the loss.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ffnn import autograd, optim
from ffnn import random as _random
from ffnn.data import TensorDataset
from ffnn.optim.flat import FlatOptimizer, FlatParameters
from ffnn.random import Generator
from ffnn.sklearn._core import DecoupledDecay, FlatRollback, L2Penalty, SklearnEpochs
from ffnn.sklearn._network import ACTIVATIONS, build_mlp, linear_layers
from ffnn.tensor import Tensor
from ffnn.train import Trainer

SOLVERS = ("adam", "adamw", "sgd")
LR_SCHEDULES = ("constant", "adaptive", "cosine")


class BaseFFNN(BaseEstimator):
    """Shared parameters and the training loop; subclasses define the targets and the loss."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "solver": [StrOptions(set(SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                             Options(Real, {np.inf})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "standardize": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"}), Options(type, {np.float32, np.float64})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate_init=0.001,
                 lr_schedule="constant", max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, dropout=0.0,
                 batch_norm=False, standardize=False, dtype="float32"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.lr_schedule = lr_schedule
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.standardize = standardize
        self.dtype = dtype

    # ----- what subclasses provide ---------------------------------------------------------
    def _validate_targets(self, X, y, first: bool, classes=None):
        """Return ``(X, y)`` checked, ``y`` as the training target array."""
        raise NotImplementedError

    def _make_loss(self):
        """The Trainer's loss: ``loss(output, target, weight=None)``, the batch's weighted
        mean loss (raw sample weights, divided by their sum inside)."""
        raise NotImplementedError

    def _sample_weight(self, y, sample_weight):
        return sample_weight

    # ----- fitted attributes in scikit-learn's layout -------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices [fan_in, fan_out] (views of ``model_``'s ``Linear.weight.T``)."""
        check_is_fitted(self, "model_")
        return [layer.weight._data.T for layer in linear_layers(self.model_)]

    @coefs_.setter
    def coefs_(self, values) -> None:
        self._set_linear("coefs_", [np.asarray(v) for v in values], self.coefs_)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors [fan_out] (views of ``model_``'s ``Linear.bias``)."""
        check_is_fitted(self, "model_")
        return [layer.bias._data for layer in linear_layers(self.model_)]

    @intercepts_.setter
    def intercepts_(self, values) -> None:
        self._set_linear("intercepts_", [np.asarray(v) for v in values], self.intercepts_)

    @staticmethod
    def _set_linear(name: str, values: list[np.ndarray], targets: list[np.ndarray]) -> None:
        """Copy ``values`` into the live views ``targets`` (shapes must match)."""
        if len(values) != len(targets) or any(v.shape != t.shape
                                              for v, t in zip(values, targets)):
            raise ValueError(f"{name} must be arrays of shapes {[t.shape for t in targets]}. "
                             f"Received: shapes {[v.shape for v in values]}")
        for value, target in zip(values, targets):
            target[...] = value

    # ----- checks -----------------------------------------------------------------------------
    def _check_hyperparameters(self) -> tuple[int, ...]:
        self._validate_params()
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
        bad = [s for s in sizes if isinstance(s, bool) or not isinstance(s, Integral) or s < 1]
        if bad:
            raise ValueError("hidden_layer_sizes must be positive integers. Received: "
                             f"hidden_layer_sizes={self.hidden_layer_sizes!r}")
        return tuple(int(s) for s in sizes)

    @property
    def _np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    def _prepare_X(self, X, dtype=None) -> np.ndarray:
        """Scale (when ``standardize``) and cast to ``dtype`` (default: the training
        dtype), C-contiguous."""
        if getattr(self, "scaler_", None) is not None:
            X = self.scaler_.transform(X)
        return np.ascontiguousarray(X, dtype=self._np_dtype if dtype is None else dtype)

    def _forward(self, X) -> np.ndarray:
        """Network output (logits / predictions) for X [n, n_features], eval mode.

        Computed in float64 from the trained weights (float64 inputs promote every op), so
        a sample's prediction does not depend on the other rows of X (float32 BLAS kernels
        round differently with the batch size).
        """
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return np.asarray(self._eval_output(self._prepare_X(X, np.float64)), dtype=np.float64)

    def _eval_output(self, X: np.ndarray) -> np.ndarray:
        """The network's output for prepared inputs, in eval mode and without a graph (the
        model returns to train mode afterwards)."""
        self.model_.eval()
        with autograd.no_grad():
            out = self.model_(Tensor._make(X, False, None))._data
        self.model_.train()
        return out

    # ----- fitting ---------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        hidden = self._check_hyperparameters()
        first = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        X, y = self._validate_targets(X, y, first, classes)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
        sample_weight = self._sample_weight(y, sample_weight)
        if sample_weight is not None:
            keep = sample_weight > 0  # zero weight ≡ absent sample
            X, y, sample_weight = X[keep], y[keep], sample_weight[keep]
            if np.all(sample_weight == 1):
                sample_weight = None
        self._random_state = check_random_state(self.random_state)
        if first:
            self._initialize(X, y, hidden)
        X = self._prepare_X(X)
        if not incremental:
            self._learning_rate = float(self.learning_rate_init)
        if not incremental or self._optimizer is None or not self._flat.link():
            self._make_optimizer()
        self._run_epochs(X, y, sample_weight, incremental)
        return self

    def _initialize(self, X, y, hidden: tuple[int, ...]) -> None:
        if self.standardize:
            from ffnn.data import StandardScaler

            self.scaler_ = StandardScaler().fit(X)
        else:
            self.scaler_ = None
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        self._generator = Generator(seed)
        self._seed = seed
        self.model_ = build_mlp(X.shape[1], hidden, self.n_outputs_, self.activation,
                                float(self.dropout), self.batch_norm, self._np_dtype,
                                self._generator)
        self.n_layers_ = len(hidden) + 2
        self.loss_curve_ = []
        self.t_ = 0
        self._no_improvement_count = 0
        self._epoch = 0
        self._learning_rate = float(self.learning_rate_init)
        self.best_loss_ = np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self._optimizer = None

    def _make_optimizer(self) -> None:
        """One optimizer over the flat buffer of all parameters (``FlatParameters``)."""
        self._flat = FlatParameters(self.model_)
        flat = self._flat.flat
        lr = self._learning_rate
        if self.solver == "sgd":
            nesterov = self.nesterovs_momentum and self.momentum > 0
            self._optimizer = optim.SGD([flat], lr=lr, momentum=self.momentum,
                                        nesterov=nesterov)
        else:  # adamw: Adam plus the decoupled decay of the weights in _train_one_epoch
            self._optimizer = optim.Adam([flat], lr=lr, betas=(self.beta_1, self.beta_2),
                                         eps=self.epsilon)

    def _split_validation(self, X, y, sample_weight):
        stratify = y if getattr(self, "_stratify", False) else None
        parts = train_test_split(
            X, y, *([] if sample_weight is None else [sample_weight]),
            random_state=self._random_state, test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, y_train, y_val = parts[:4]
        w_train, w_val = (parts[4], parts[5]) if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                             f"or the size of your dataset. Received: {X.shape[0]} samples, "
                             f"validation_fraction={self.validation_fraction}")
        return X_train, y_train, w_train, (X_val, y_val, w_val)

    def _run_epochs(self, X, y, sample_weight, incremental: bool) -> None:
        """One epoch (``partial_fit``) or up to ``max_iter`` on the Trainer, configured with
        the flat optimizer, the penalty, scikit-learn's epoch rules and a divergence guard
        that restores the weights the failing epoch started from."""
        validation = None
        if self.early_stopping:
            X, y, sample_weight, validation = self._split_validation(X, y, sample_weight)
        n = X.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else min(self.batch_size, n)
        self.n_iter_ = 0
        rules = SklearnEpochs(self, n, validation, incremental)
        guard = FlatRollback(self._flat)
        trainer = self._trainer([rules, guard])
        arrays = (X, self._training_target(y)) + (() if sample_weight is None
                                                   else (sample_weight,))
        start = self._epoch
        rng_state = _random.get_rng_state()  # the Trainer seeds the global generator
        try:
            trainer.fit(TensorDataset(*arrays), epochs=start + (1 if incremental else
                                                                self.max_iter),
                        initial_epoch=start, batch_size=batch_size, shuffle=self.shuffle,
                        verbose=0)
        finally:
            _random.set_rng_state(rng_state)
        if guard.stopped_epoch is not None:
            raise ValueError(
                f"{type(self).__name__}: training diverged in epoch {self.n_iter_ + 1} "
                f"(loss={guard.loss}); the weights before that epoch are kept. Lower "
                f"learning_rate_init (Received: {self.learning_rate_init}) or set "
                "standardize=True.")
        self._flat.release_grads()
        if rules.best_weights is not None:
            self.model_.load_state_dict(rules.best_weights)

    def _trainer(self, callbacks: list) -> Trainer:
        """The Trainer for this fit: the model, its loss, one optimizer step over the flat
        buffer, L2 (or AdamW's decay) as the penalty, the epoch seeds from ``_seed``."""
        flat = self._flat
        if self.solver == "adamw":
            penalty = DecoupledDecay(flat, self.alpha, self._optimizer) if self.alpha else None
        else:
            penalty = L2Penalty(flat, self.alpha) if self.alpha else None
        seed = getattr(self, "_seed", None)
        if seed is None:
            seed = self._seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        return Trainer(self.model_, self._make_loss(), FlatOptimizer(self._optimizer, flat),
                       callbacks=callbacks, seed=seed, penalty=penalty, compile="auto")

    def _training_target(self, y: np.ndarray) -> np.ndarray:
        """The array ``_batch_loss`` receives rows of (default: y itself)."""
        return y

    def _score_prepared(self, X, y, sample_weight) -> float:
        """Validation score on already-prepared inputs (accuracy / R²)."""
        raise NotImplementedError

    # ----- checkpoints -------------------------------------------------------------------------
    def to_checkpoint(self, path) -> None:
        """Save the fitted network, scaler and estimator state as an ffnn checkpoint."""
        from ffnn.sklearn.checkpoint import to_checkpoint

        to_checkpoint(self, path)

    @classmethod
    def from_checkpoint(cls, path):
        """A fitted estimator from a checkpoint written by :meth:`to_checkpoint` (or the same
        file re-saved by ffnn after fine-tuning ``ffnn.load(path).model``)."""
        from ffnn.sklearn.checkpoint import from_checkpoint

        return from_checkpoint(cls, path)

    # ----- scikit-learn plumbing --------------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        if state.get("_optimizer") is not None:  # leave out its work buffers (rebuilt lazily)
            state["_optimizer"] = copy.copy(state["_optimizer"])
            state["_optimizer"]._scratch = {}
        return state
