"""``Trainer``: the training loop (Keras's ``fit``/``evaluate``/``predict``) for ffnn modules.

Randomness. The trainer owns a ``seed``. Epoch ``e`` draws its shuffling, augmentation and
dropout from two random streams derived from ``(seed, e)``: one for the DataLoader's
generator, one for the global generator (which Dropout uses). So one seed gives
bit-identical runs, and a run resumed at an epoch boundary (``fit(..., initial_epoch=e)``
after restoring model, optimizer, scheduler, callbacks and history) replays the same epochs.
For a mid-epoch position, ``rng_state()`` / ``set_rng_state()`` capture both generators.

``validation_split=f`` takes the *last* fraction ``f`` of the training rows (before any
shuffling), as Keras does: no randomness, but shuffle sorted data first or pass ``val``.
"""

from __future__ import annotations

import difflib
import math
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from ffnn import accel
from ffnn import random as _random
from ffnn.autograd import no_grad
from ffnn.compiler import fuse, trace
from ffnn.compiler.chain import ChainStep
from ffnn.compiler.watch import Watch
from ffnn.io.resume import restore_training_state
from ffnn.nn.utils import clip_grad_norm_, l1_penalty
from ffnn.optim.lr_scheduler import ReduceLROnPlateau
from ffnn.optim.step_hooks import any_hooks
from ffnn.tensor import Tensor
from ffnn.train import _inputs
from ffnn.train._losses import get_loss, labels, loss_task, probabilities
from ffnn.train.callbacks import Callback, CallbackList, TerminateOnNaN
from ffnn.train.history import History
from ffnn.train.metrics import Metric, get_metric
from ffnn.train.progress import EpochPrinter, ProgressBar
from ffnn.train.strategy import LocalStrategy, Strategy, get_strategy

_OWNER = "Trainer"


class Trainer:
    """``Trainer(model, loss, optimizer, metrics=None, callbacks=None, scheduler=None,
    scheduler_interval='epoch', scheduler_monitor=None, grad_clip=None, l1=0.0, seed=None,
    terminate_on_nan=True)``.

    ``loss``: a loss module/callable ``loss(output, target)`` or a name ('cross_entropy',
    'mse', 'bce_with_logits', ...). ``metrics``: names ('accuracy', 'top5_accuracy',
    'precision', 'recall', 'f1', 'mse', 'mae', 'r2') or callables ``fn(y_true, y_pred)``;
    classification metrics get class probabilities. ``scheduler``: stepped once per epoch
    (``scheduler_interval='epoch'``, torch's convention) or per batch ('batch', e.g.
    OneCycleLR); ``ReduceLROnPlateau`` gets ``scheduler_monitor`` (default 'val_loss' when there
    is validation data, else 'loss'). ``grad_clip``: clip the global gradient 2-norm before
    each step. ``l1``: add ``l1 · Σ|w|`` over weight matrices (ndim ≥ 2) to the objective (the
    logged loss excludes it). ``seed``: see the module docstring (None: drawn from the global
    generator). ``terminate_on_nan``: add a :class:`TerminateOnNaN` unless one is given.
    ``distributed``: data-parallel over MPI ranks (``mpiexec -n R``): each rank trains on its
    shard of every batch (``batch_size`` is the global batch), gradients are averaged weighted
    by rows, logs are reduced over ranks, only rank 0 writes (see ``ffnn.distributed``);
    shorthand for ``strategy=ffnn.distributed.DataParallelStrategy()``. ``strategy``: a
    :class:`~ffnn.train.strategy.Strategy` (default ``LocalStrategy``, one process).
    ``penalty``: ``penalty(weight_sum) -> float``, called after each backward with the batch's
    total sample weight (its row count when unweighted); it adds its own gradient to the
    parameters' ``.grad`` and returns its value, which the logged loss includes (the
    scikit-learn estimators' L2 term). A penalty that is ``½ λ Σ‖W‖²`` over the Linear
    weights says so with ``penalty.weight_l2(weight_sum) -> λ``, and the fused step computes
    it. ``fast_step``: train a plain chain (``Sequential`` of ``Linear`` and activations, a
    plain loss) without building the graph, with the same gradients
    (:mod:`ffnn.compiler.chain`); anything else always uses the graph.
    ``compile``: False/True/'replay' train as above (the fast step is the bit-exact replay);
    'fused' runs forward, loss, backward and the update of a chain as one compiled call
    (``ffnn.compiler.fused``: equal to the eager step to round-off, not bit for bit),
    falling back to the fast step with a one-line warning where it cannot; 'auto' is
    'fused' where it applies and the compiled kernels are on (``FFNN_ACCEL``), else the
    fast step, without warnings (the scikit-learn estimators' choice).

    Batches of three fields ``(x, y, w)`` carry sample weights: the loss is called as
    ``loss(output, target, w)`` (Keras's ``sample_weight`` convention).
    """

    def __init__(self, model, loss, optimizer, metrics: Sequence | None = None,
                 callbacks: Sequence[Callback] | None = None, scheduler=None,
                 scheduler_interval: str = "epoch", scheduler_monitor: str | None = None,
                 grad_clip: float | None = None, l1: float = 0.0, seed: int | None = None,
                 terminate_on_nan: bool = True, distributed: bool = False,
                 strategy: Strategy | None = None, penalty: Callable | None = None,
                 fast_step: bool = True, compile: bool | str = False):  # noqa: A002 - torch's
        _check_arguments(model, optimizer, scheduler, scheduler_interval, grad_clip, l1,
                         penalty, compile)
        if seed is None:
            seed = int(_random.rng().integers(2**63 - 1))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"{_OWNER}: seed must be a non-negative integer or None. "
                             f"Received: seed={seed!r}")
        self.model = model
        self.loss = get_loss(loss)
        self.optimizer = optimizer
        self.metrics: list[Metric] = [get_metric(m) for m in (metrics or [])]
        self.callbacks: list[Callback] = list(callbacks or [])
        if terminate_on_nan and not any(isinstance(c, TerminateOnNaN) for c in self.callbacks):
            self.callbacks.append(TerminateOnNaN())
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.scheduler_monitor = scheduler_monitor
        self.grad_clip, self.l1, self.seed = grad_clip, float(l1), int(seed)
        self.task = getattr(self.loss, "task", None) or loss_task(self.loss)
        self.penalty, self.fast_step = penalty, bool(fast_step) or bool(compile)
        self.compile = compile
        self.history = History()
        self.epoch = 0  # epochs completed
        self.global_step = 0  # optimizer steps taken
        self.stop_training = False
        self.params: dict = {}
        self.loader_generator = _random.Generator(self.seed)
        self._streams: tuple | None = None  # (seed, loader stream, global stream)
        self._chain: ChainStep | None = None
        self._recheck = True  # check the chain's hooks before each batch (see _train_epoch)
        self._chain_capture: tuple | None = None  # (chain, Watch, the loss's options)
        self._l1_weights: list = []
        self._fused_capture: tuple | None = None  # (chain, its FusedStep or None)
        self._reading: trace.ForwardReading | None = None  # the next forward, recorded
        self.strategy = get_strategy(strategy, bool(distributed))
        self.strategy.setup(self)

    # ----- helpers --------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        for param in self.model.parameters():
            if param._data.dtype.kind == "f":
                return param._data.dtype
        return np.dtype(np.float32)

    def _output_form(self, X: np.ndarray) -> tuple[int, bool]:
        """(the model's output width, whether its output is [n]: a forward ending in
        ``.squeeze(1)`` or ``.view(-1)``), from one eval-mode forward pass on two rows
        (``.squeeze()`` of one row would be 0-d)."""
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                out = self.model(Tensor._make(X[:2], False, None))
        finally:
            self.model.train(was_training)
        return (int(out.shape[-1]), False) if out.ndim > 1 else (1, True)

    def _check_xy(self, data, name: str) -> tuple[np.ndarray, np.ndarray]:
        X, y = data
        X = _inputs.check_x(X, f"{name}[0] (X)", _OWNER, self.dtype)
        if X.shape[0] == 0:
            raise ValueError(f"{_OWNER}: {name} has 0 samples; at least 1 is needed. "
                             f"Received: {name}[0] (X) of shape {X.shape}")
        y = _inputs.check_y(y, X.shape[0], f"{name}[1] (y)", _OWNER, self.task,
                            *self._output_form(X), dtype=self.dtype)
        return X, y

    def _batch(self, batch, dtype: np.dtype | None = None) -> tuple[Tensor, Tensor | None,
                                                                     Tensor | None]:
        """(x, y, sample weights) of a batch, x in ``dtype`` (default: the model's); y and
        the weights None when absent."""
        if not isinstance(batch, (tuple, list)):
            batch = (batch,)
        x = batch[0] if isinstance(batch[0], Tensor) else Tensor._of(np.asarray(batch[0]))
        dtype = self.dtype if dtype is None else dtype
        if x._data.dtype.kind in "biuf" and x._data.dtype != dtype:
            x = Tensor._make(x._data.astype(dtype), False, None)
        y = batch[1] if len(batch) > 1 else None
        return x, y, (batch[2] if len(batch) > 2 else None)

    def _target(self, y, out: np.ndarray) -> Tensor:
        """Targets shaped and typed for the loss ([n] -> [n, 1] against [n, 1] outputs)."""
        return Tensor._make(self._target_array(y, out), False, None)

    def _target_array(self, y, out: np.ndarray) -> np.ndarray:
        """``_target``'s array (what the graph-free step takes)."""
        y = y._data if isinstance(y, Tensor) else np.asarray(y)
        if self.task == "multiclass" and y.ndim == 1:
            return y.astype(np.int64, copy=False)
        y = y.astype(out.dtype, copy=False)
        if y.ndim == 1 and out.ndim == 2 and out.shape[1] == 1:
            y = y[:, None]
        return y

    def _loss(self, out: Tensor, target: Tensor, weight) -> Tensor:
        return self.loss(out, target) if weight is None else self.loss(out, target, weight)

    def _scores(self, outputs: np.ndarray) -> np.ndarray:
        return probabilities(self.loss, outputs) if self.task else outputs

    def _metric_logs(self, outputs: list, targets: list, prefix: str = "") -> dict[str, float]:
        if not self.metrics or not outputs:
            return {}
        scores = self._scores(np.concatenate(outputs))
        y_true = np.concatenate(targets)
        return {prefix + m.name: m(y_true, scores) for m in self.metrics}

    def logged(self, has_val: bool) -> list[str]:
        """The names ``fit`` logs each epoch: loss, the metrics, their ``val_`` forms when
        there is validation data, and lr."""
        keys = ["loss", *(m.name for m in self.metrics)]
        return keys + (["val_" + k for k in keys] if has_val else []) + ["lr"]

    def check_monitors(self, has_val: bool) -> None:
        """ValueError, before any epoch, when a callback's ``monitor`` (or
        ``scheduler_monitor``) names a quantity ``fit`` does not log: a typo would otherwise
        leave early stopping and the best checkpoint silently off."""
        logged = self.logged(has_val)
        named = [(type(c).__name__, c.monitor) for c in self.callbacks
                 if isinstance(getattr(c, "monitor", None), str) and getattr(c, "save_best", True)]
        if self.scheduler_monitor is not None:
            named.append(("scheduler_monitor", self.scheduler_monitor))
        for owner, monitor in named:
            if monitor in logged:
                continue
            close = difflib.get_close_matches(monitor, logged, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            why = "" if has_val or not monitor.startswith("val_") else \
                " (there is no validation data)"
            raise ValueError(f"{_OWNER}: {owner} monitor={monitor!r} is not logged{why}{hint}; "
                             f"logged: {logged}")

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def _weights(self) -> list:
        return [p for p in self.model.parameters() if p.requires_grad and p.ndim >= 2]

    # ----- randomness -----------------------------------------------------------------
    def seed_epoch(self, epoch: int) -> None:
        """Put the loader generator and the global generator at epoch ``epoch``'s streams:
        each is a PCG64 stream derived once from the trainer's seed, advanced by
        ``epoch · 2⁶⁴`` draws (a jump in C, far cheaper than seeding anew each epoch; the
        epochs' streams never overlap)."""
        if self._streams is None or self._streams[0] != self.seed:
            words = np.random.SeedSequence(self.seed).spawn(2)
            self._streams = (self.seed, *(np.random.PCG64(w).state for w in words))
        _, loader_stream, global_stream = self._streams
        self.loader_generator.set_stream(loader_stream, epoch)
        _random.default_generator.set_stream(global_stream, epoch)

    def rng_state(self) -> dict:
        """JSON-able state of the trainer's loader generator and of the global generator."""
        return {"seed": self.seed, "loader": self.loader_generator.get_state(),
                "global": _random.get_rng_state()}

    def set_rng_state(self, state: dict) -> None:
        self.seed = int(state["seed"])
        self.loader_generator.set_state(state["loader"])
        _random.set_rng_state(state["global"])

    # ----- training -------------------------------------------------------------------
    def _loaders(self, train, val, validation_split, batch_size, shuffle, augment):
        make = _inputs.array_loader
        if val is not None and validation_split is not None:
            raise ValueError(f"{_OWNER}.fit: pass either val or validation_split, not both. "
                             f"Received: val and validation_split={validation_split!r}")
        if _inputs.is_pair(train):
            X, y = self._check_xy(train, "train")
            if validation_split is not None:
                (X, y), val = _inputs.split_last(X, y, validation_split, f"{_OWNER}.fit")
            train_loader = make(X, y, batch_size, shuffle, self.loader_generator, augment)
        else:
            if validation_split is not None:
                if isinstance(train, _inputs.DataLoader):
                    raise ValueError(f"{_OWNER}.fit: validation_split needs arrays or a "
                                     "Dataset, not a DataLoader; pass val instead")
                train, val = _inputs.split_dataset_last(train, validation_split, _OWNER)
            train_loader = _inputs.as_loader(train, "train", _OWNER, batch_size, shuffle,
                                             self.loader_generator, augment)
        train_loader = self.strategy.train_loader(self, train_loader)
        if val is None:
            return train_loader, None
        if _inputs.is_pair(val):
            X, y = self._check_xy(val, "val")
            return train_loader, make(X, y, batch_size, False, None, None)
        return train_loader, _inputs.as_loader(val, "val", _OWNER, batch_size, False, None, None)

    def _check_fit_args(self, epochs, initial_epoch, verbose) -> None:
        for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{_OWNER}.fit: {name} must be an integer >= 0. "
                                 f"Received: {name}={value!r}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"{_OWNER}.fit: verbose must be 0, 1 or 2. "
                             f"Received: verbose={verbose!r}")

    def fit(self, train, val=None, *, validation_split: float | None = None, epochs: int = 1,
            batch_size: int = 32, shuffle: bool = True, initial_epoch: int = 0,
            augment: Callable | None = None, verbose: int = 1,
            resume_from: str | None = None) -> History:
        """Train for epochs ``initial_epoch .. epochs-1`` (Keras's meaning of ``epochs``).

        ``train`` / ``val``: ``(X, y)`` arrays, a Dataset or a DataLoader (``batch_size``,
        ``shuffle`` and ``augment`` apply to arrays and Datasets). ``augment``: a batch
        augmentation ``aug(x, rng)`` (see ``ffnn.data.augment``). ``verbose``: 0 silent, 1 a
        progress bar on a terminal, 2 one line per epoch. ``initial_epoch > 0`` continues
        ``self.history`` (resume); 0 starts a new History. ``resume_from``: a checkpoint path
        (``ModelCheckpoint``); restores model, optimizer, scheduler, callbacks, history, epoch
        and RNG, and continues from its epoch (``initial_epoch`` is ignored). Returns the History.
        Raises ValueError before the first epoch for training data without a batch, or a
        callback whose ``monitor`` names a quantity that is not logged (see ``logged``).
        """
        batch_size = _inputs.check_batch_size(batch_size, f"{_OWNER}.fit")
        self._check_fit_args(epochs, initial_epoch, verbose)
        train_loader, val_loader = self._loaders(train, val, validation_split, batch_size,
                                                 shuffle, augment)
        if len(train_loader) == 0:
            raise ValueError(f"{_OWNER}.fit: the training data gives no batch (0 samples, or "
                             "fewer than batch_size with drop_last); at least 1 is needed")
        self.check_monitors(val_loader is not None)
        if resume_from is not None:  # model, optimizer, scheduler, callbacks, history, RNG
            initial_epoch = restore_training_state(self, resume_from)
        if initial_epoch == 0:
            self.history, self.global_step = History(), 0
        self.stop_training = False
        self.params = {"epochs": int(epochs), "initial_epoch": int(initial_epoch),
                       "steps": len(train_loader), "batch_size": batch_size}
        extra = {1: [ProgressBar()], 2: [EpochPrinter()]}.get(verbose, [])
        callbacks = CallbackList(self.strategy.callbacks(self.callbacks + extra), trainer=self)
        callbacks.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            self._run_epoch(epoch, train_loader, val_loader, callbacks)
            if self.stop_training:
                break
        callbacks.on_train_end({})
        return self.history

    def _run_epoch(self, epoch: int, train_loader, val_loader, callbacks: CallbackList) -> None:
        """One epoch: seeds, training, validation, scheduler, callbacks, History."""
        self.seed_epoch(epoch)
        self.strategy.start_epoch(self, train_loader, epoch)
        callbacks.on_epoch_begin(epoch, {})
        start, lr = time.perf_counter(), self._lr()
        logs = self._train_epoch(train_loader, callbacks)
        if val_loader is not None:
            val_logs = self._evaluate_loader(val_loader, callbacks)
            logs.update({"val_" + k: v for k, v in val_logs.items()})
        logs["lr"] = lr
        self._step_scheduler(logs)
        logs["time"] = time.perf_counter() - start
        callbacks.on_epoch_end(epoch, logs)
        seconds = logs.pop("time")
        self.history.record(epoch, logs, seconds)
        self.epoch = epoch + 1

    def _train_epoch(self, loader, callbacks: CallbackList) -> dict[str, float]:
        chain = self._chain = self._fast_chain()
        # the chain's hooks and requires_grad are as captured (``Watch``, each epoch); they
        # are checked again before each batch only when callbacks or the optimizer's step
        # hooks run between batches
        listening = callbacks.listens("on_train_batch_begin", "on_train_batch_end")
        self._recheck = listening or any_hooks(self.optimizer)  # a step hook may change them
        if chain is not None:  # the captured modules are the model's (checked each epoch)
            chain.train()
            dtype = chain.params[0]._data.dtype
        else:
            self.model.train()
            dtype = self.dtype
        collect = bool(self.metrics)
        outputs, targets = [], []
        loss_sum, count = 0.0, 0
        clip = self.strategy.clipper(self, clip_grad_norm_ if self.grad_clip else None)
        params = [p for p in self.model.parameters() if p.requires_grad] if clip else []
        self._l1_weights = self._weights() if self.l1 else []
        self._reading = trace.ForwardReading(self.model, self.loss, self.optimizer) \
            if chain is None and self.fast_step and trace.traceable(self.model) else None
        fused = self._fused_for(chain, clip) if self._reading is None else None
        for b, batch in enumerate(loader):
            x, y, weight = self._batch(batch, dtype)
            n = x._data.shape[0]
            if listening:
                callbacks.on_train_batch_begin(b, {"size": n})
            done = None
            if fused is not None and weight is None:
                done = self._fused_step(fused, x, y, collect)
            if done is None:
                value, out, target = self._forward_backward(x, y, weight)
                value += self._update(n, weight, clip, params)
                if self._reading is not None:  # this batch's forward read the model
                    fused = self._fused_for(self._adopt_reading(), clip)
            else:
                value, out, target = done
            if self.scheduler is not None and self.scheduler_interval == "batch":
                self.scheduler.step()
            self.global_step += 1
            loss_sum += value * n
            count += n
            if collect:
                outputs.append(out)
                targets.append(target)
            value, n = self.strategy.batch_loss(value, n)  # the global batch's, when sharded
            if listening:
                callbacks.on_train_batch_end(b, {"loss": value, "size": n})
            if self.stop_training:
                break
        self._reading = None  # an epoch that ended before its first batch
        self.strategy.end_epoch(self)
        loss, outputs, targets = self.strategy.reduce_epoch(loss_sum, count, outputs, targets)
        return {"loss": loss, **self._metric_logs(outputs, targets)}

    def _update(self, n: int, weight, clip, params) -> float:
        """After backward: gradients combined over processes, the penalty, clipping, the
        optimizer's step. Returns the penalty's value (0 without one)."""
        self.strategy.combine_gradients(self, n)
        added = 0.0
        if self.penalty is not None:
            added = self.penalty(float(n) if weight is None else float(weight._data.sum()))
        if clip is not None:
            clip(params, self.grad_clip)
        self.optimizer.step()
        return added

    def _fast_chain(self) -> ChainStep | None:
        """The engine's fast step for this epoch (``ChainStep.build``), captured again only
        when the model, a layer's or the loss's options or the optimizer changed since the
        last capture (``ffnn.compiler.watch``); None when ``fast_step`` is off or the chain
        does not apply."""
        if not self.fast_step:
            return None
        options = self._loss_options()
        captured = self._chain_capture
        if captured is None or captured[2] != options or \
                not captured[1].unchanged(self.optimizer) or \
                captured[0] is not None and captured[0].guards is not None and \
                not captured[0].guards.values_hold():  # a traced forward's path may differ
            chain = ChainStep.build(self.model, self.loss)
            watch = Watch(self.model, self.loss, self.optimizer,
                          chain.option_tables if chain is not None else ())
            captured = self._chain_capture = (chain, watch, options)
        return captured[0]

    def _loss_options(self) -> tuple:
        """The loss's options the fast step depends on (a capture is made again when they
        change)."""
        return (getattr(self.loss, "reduction", None),
                getattr(self.loss, "label_smoothing", None))

    def _adopt_reading(self) -> ChainStep | None:
        """After the step whose forward ``_reading`` recorded: the model (a ``forward`` of
        its own) read as a chain (``ffnn.compiler.trace``) becomes the fast step for the
        next batches and epochs, until the model changes (``Watch``); None where it is
        none (the graph trains it, and the next epoch reads it again)."""
        reading, self._reading = self._reading, None
        chain, _ = reading.step()
        current = self._chain
        if chain is not None and current is not None and current.guards is not None and \
                chain.same_path(current) and chain.guards.same_values(current.guards):
            current.guards.keys |= chain.guards.keys  # another batch, the same path
            return current
        if chain is None or not chain.trainer_takes():
            return None
        watch = Watch(self.model, self.loss, self.optimizer, chain.option_tables)
        self._chain_capture = (chain, watch, self._loss_options())
        self._chain = chain
        chain.train()
        return chain

    def _fused_for(self, chain: ChainStep | None, clip):
        """The fused step (``ffnn.compiler.fused.FusedStep``) of this epoch's chain when
        ``compile`` is 'fused' or 'auto' and it applies, built once per captured chain; else
        None ('fused' then warns, once, why)."""
        if self.compile not in ("fused", "auto"):
            return None
        if self._fused_capture is not None and self._fused_capture[0] is chain:
            return self._fused_capture[1]
        used = [name for name, on in (
            ("grad_clip", clip is not None), ("l1", self.l1 > 0),
            ("penalty", self.penalty is not None and not hasattr(self.penalty, "weight_l2")),
            ("strategy", not isinstance(self.strategy, LocalStrategy))) if on]
        fused, reason = None, f"is off with {', '.join(used)}" if used else None
        if reason is None and chain is None:
            reason = "is off: the model and loss are not a chain of Linear layers and " \
                     "activations with a plain loss"
        if reason is None and self.compile == "auto" and not accel.enabled:
            reason = "is off: FFNN_ACCEL=0"
        if reason is None:
            fused, why = fuse(chain, self.optimizer)
            reason = None if why is None else f"cannot take this model ({why})"
        if reason is not None and self.compile == "fused":
            warnings.warn(f"{_OWNER}: compile='fused' {reason}; training with the fast step",
                          stacklevel=4)
        self._fused_capture = (chain, fused)
        return fused

    def _fused_step(self, fused, x: Tensor, y, collect: bool):
        """One whole training step (forward, loss, backward, update, the penalty's L2 term)
        through ``fused``: (loss, outputs when ``collect``, targets), or None when it cannot
        take this batch (the chain changed, an input or target it does not take)."""
        chain, xa = self._chain, x._data
        if not chain.takes(xa) or (self._recheck and not chain.intact()):
            return None
        n = xa.shape[0]
        target = self._target_array(y, fused.output_like(n))
        l2 = 0.0 if self.penalty is None else self.penalty.weight_l2(float(n))
        value, why = fused(xa, target, self.optimizer, l2)
        if why is not None:
            if self.compile == "fused":
                warnings.warn(f"{_OWNER}: compile='fused' cannot take this batch ({why}); "
                              "training it with the fast step", stacklevel=4)
            return None
        return value, fused.output.copy() if collect else None, target

    def _forward_backward(self, x: Tensor, y, weight) -> tuple[float, np.ndarray, np.ndarray]:
        """Forward, zero_grad and backward on one batch; (loss, outputs, targets). Through
        the fast step when it applies (``ffnn.compiler.chain``), else the graph."""
        chain = self._chain
        if chain is not None and weight is None and not self._l1_weights \
                and chain.takes(x._data) and (not self._recheck or chain.intact()):
            out, done = chain.forward(x._data)
            target = self._target_array(y, out)
            self.optimizer.zero_grad()
            value = chain.backward(out, done, target)
            if value is not None:
                return float(value), out, target
        if self._reading is None and chain is not None and chain.guards is not None and \
                (x._data.shape[0], x._data.dtype) not in chain.guards.keys and \
                chain.guards.values_hold() and x._data.shape[1:] == chain.traced_shape:
            # a batch size the traced forward was not read at: read again (``_adopt_reading``)
            self._reading = trace.ForwardReading(self.model, self.loss, self.optimizer)
        out = (self.model if self._reading is None else self._reading)(x)
        target = self._target(y, out._data)
        loss = self._loss(out, target, weight)
        objective = loss
        if self._l1_weights:
            objective = loss + self.l1 * l1_penalty(self._l1_weights)
        self.optimizer.zero_grad()
        objective.backward()
        return float(loss._data), out._data, target._data

    def _step_scheduler(self, logs: dict) -> None:
        if self.scheduler is None or self.scheduler_interval != "epoch":
            return
        if isinstance(self.scheduler, ReduceLROnPlateau):
            monitor = self.scheduler_monitor or ("val_loss" if "val_loss" in logs else "loss")
            if monitor not in logs:
                raise ValueError(f"{_OWNER}: scheduler_monitor={monitor!r} is not logged; "
                                 f"available: {sorted(logs)}")
            self.scheduler.step(logs[monitor])
        else:
            self.scheduler.step()

    # ----- evaluation -----------------------------------------------------------------
    def _evaluate_loader(self, loader, callbacks: CallbackList) -> dict[str, float]:
        was_training = self.model.training
        self.model.eval()
        outputs, targets = [], []
        loss_sum, count = 0.0, 0
        callbacks.on_test_begin({})
        with no_grad():
            for b, batch in enumerate(loader):
                x, y, weight = self._batch(batch)
                callbacks.on_test_batch_begin(b, {"size": x.shape[0]})
                out = self.model(x)
                target = self._target(y, out._data)
                value = float(self._loss(out, target, weight)._data)
                loss_sum += value * x.shape[0]
                count += x.shape[0]
                outputs.append(out._data)
                targets.append(target._data)
                callbacks.on_test_batch_end(b, {"loss": value, "size": x.shape[0]})
        logs = {"loss": loss_sum / count if count else math.nan}
        logs.update(self._metric_logs(outputs, targets))
        callbacks.on_test_end(dict(logs))
        self.model.train(was_training)
        return logs

    def evaluate(self, data, batch_size: int = 256) -> dict[str, float]:
        """Loss and metrics on ``data`` ((X, y), a Dataset or a DataLoader), eval mode, no grad."""
        batch_size = _inputs.check_batch_size(batch_size, f"{_OWNER}.evaluate")
        if _inputs.is_pair(data):
            X, y = self._check_xy(data, "data")
            loader = _inputs.array_loader(X, y, batch_size, False, None, None)
        else:
            loader = _inputs.as_loader(data, "data", _OWNER, batch_size, False, None, None)
        return self._evaluate_loader(loader, CallbackList(self.callbacks, trainer=self))

    def _outputs(self, X, batch_size: int) -> np.ndarray:
        """Model outputs for X (array, Dataset or DataLoader), batched, eval mode, no grad."""
        batch_size = _inputs.check_batch_size(batch_size, f"{_OWNER}.predict")
        if isinstance(X, (np.ndarray, Tensor, list)):
            X = _inputs.check_x(X, "X", f"{_OWNER}.predict", self.dtype)
            batches = (X[i:i + batch_size] for i in range(0, X.shape[0], batch_size))
        else:
            loader = _inputs.as_loader(X, "X", f"{_OWNER}.predict", batch_size, False, None,
                                       None)
            batches = (self._batch(batch)[0]._data for batch in loader)
        callbacks = CallbackList(self.callbacks, trainer=self)
        was_training = self.model.training
        self.model.eval()
        outputs = []
        callbacks.on_predict_begin({})
        try:
            with no_grad():
                for b, x in enumerate(batches):
                    callbacks.on_predict_batch_begin(b, {"size": x.shape[0]})
                    outputs.append(self.model(Tensor._make(x, False, None))._data)
                    callbacks.on_predict_batch_end(b, {"size": x.shape[0]})
        finally:
            self.model.train(was_training)
        callbacks.on_predict_end({})
        return np.concatenate(outputs)

    def predict(self, X, batch_size: int = 256) -> np.ndarray:
        """Class labels [n] for a classification loss, else the model outputs [n, k]."""
        outputs = self._outputs(X, batch_size)
        return labels(probabilities(self.loss, outputs)) if self.task else outputs

    def predict_proba(self, X, batch_size: int = 256) -> np.ndarray:
        """Class probabilities (softmax / σ of the outputs, per the loss); [n, k] or [n, 1]."""
        if not self.task:
            raise TypeError(f"{_OWNER}.predict_proba needs a classification loss "
                            f"(CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss). "
                            f"Received: loss {type(self.loss).__name__}")
        return probabilities(self.loss, self._outputs(X, batch_size))


def _check_arguments(model, optimizer, scheduler, scheduler_interval, grad_clip, l1, penalty,
                     compile) -> None:  # noqa: A002 - the Trainer's argument
    """The Trainer's arguments, checked: a TypeError/ValueError naming the bad one."""
    if compile not in (False, True, "replay", "fused", "auto"):
        raise ValueError(f"{_OWNER}: compile must be True, False, 'replay', 'fused' or 'auto'. "
                         f"Received: compile={compile!r}")
    if not callable(model) or not hasattr(model, "parameters"):
        raise TypeError(f"{_OWNER}: model must be an ffnn.nn.Module. "
                        f"Received: model of type {type(model).__name__}")
    for method in ("step", "zero_grad"):
        if not hasattr(optimizer, method) or not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{_OWNER}: optimizer must be an ffnn.optim optimizer (with "
                            f"param_groups, step, zero_grad). Received: optimizer of type "
                            f"{type(optimizer).__name__}")
    if scheduler_interval not in ("epoch", "batch"):
        raise ValueError(f"{_OWNER}: scheduler_interval must be 'epoch' or 'batch'. "
                         f"Received: scheduler_interval={scheduler_interval!r}")
    if scheduler is not None and not hasattr(scheduler, "step"):
        raise TypeError(f"{_OWNER}: scheduler must have a step() method. "
                        f"Received: scheduler of type {type(scheduler).__name__}")
    if grad_clip is not None and (isinstance(grad_clip, bool) or not
                                  isinstance(grad_clip, (int, float)) or not grad_clip > 0):
        raise ValueError(f"{_OWNER}: grad_clip must be a number > 0 or None. "
                         f"Received: grad_clip={grad_clip!r}")
    if isinstance(l1, bool) or not isinstance(l1, (int, float)) or not l1 >= 0 \
            or not math.isfinite(l1):
        raise ValueError(f"{_OWNER}: l1 must be a finite number >= 0. Received: l1={l1!r}")
    if penalty is not None and not callable(penalty):
        raise TypeError(f"{_OWNER}: penalty must be a callable penalty(weight_sum) or None. "
                        f"Received: penalty of type {type(penalty).__name__}")
