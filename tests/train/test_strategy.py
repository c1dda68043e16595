"""The Trainer's one strategy object, its ``penalty`` hook, and TerminateOnNaN's epoch
restore: the hooks are called where the loop says, LocalStrategy changes nothing, and a
strategy's answer is what the loop uses."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ffnn
from ffnn import nn, optim
from ffnn.train import Callback, LocalStrategy, Strategy, TerminateOnNaN, Trainer
from ffnn.train.callbacks import copy_weights


class Recording(Strategy):
    def __init__(self):
        self.calls = []

    def setup(self, trainer):
        self.calls.append("setup")

    def train_loader(self, trainer, loader):
        self.calls.append("train_loader")
        return loader

    def start_epoch(self, trainer, loader, epoch):
        self.calls.append(f"start_epoch {epoch}")

    def combine_gradients(self, trainer, rows):
        self.calls.append(f"combine {rows}")

    def end_epoch(self, trainer):
        self.calls.append("end_epoch")


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    return X, rng.integers(0, 3, 40)


def _model():
    ffnn.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6, dtype=ffnn.float64), nn.Tanh(),
                         nn.Linear(6, 3, dtype=ffnn.float64))


def _fit(strategy=None, epochs=2, **options):
    model = _model()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                      seed=1, strategy=strategy, **options)
    history = trainer.fit(_data(), epochs=epochs, batch_size=16, verbose=0)
    return trainer, [p.numpy().copy() for p in model.parameters()], history


def test_the_trainer_calls_its_strategy_at_each_point():
    strategy = Recording()
    trainer, params, _ = _fit(strategy)
    assert trainer.strategy is strategy
    batches = ["combine 16", "combine 16", "combine 8"]
    assert strategy.calls == ["setup", "train_loader", "start_epoch 0", *batches, "end_epoch",
                              "start_epoch 1", *batches, "end_epoch"]
    _, local, _ = _fit(LocalStrategy())
    for a, b in zip(params, local):
        assert np.array_equal(a, b)


def test_the_loop_uses_what_the_strategy_answers():
    class NoGradient(Strategy):  # every step combines to a zero gradient
        def combine_gradients(self, trainer, rows):
            for p in trainer.model.parameters():
                p.grad.zero_()

        def reduce_epoch(self, loss_sum, count, outputs, targets):
            return -1.0, outputs, targets

    trainer, params, history = _fit(NoGradient())
    for a, p in zip(params, _model().parameters()):
        assert np.array_equal(a, p.numpy())
    assert history["loss"] == [-1.0, -1.0]
    assert isinstance(_fit()[0].strategy, LocalStrategy)


def test_a_bad_strategy_is_refused():
    model = _model()
    with pytest.raises(TypeError, match=r"strategy must be an ffnn.train.Strategy.*Received: "
                                        r"strategy of type str"):
        Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), strategy="mpi")
    with pytest.raises(ValueError, match=r"either strategy or distributed=True, not both"):
        Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1),
                strategy=LocalStrategy(), distributed=True)


def test_penalty_adds_its_gradient_and_its_value_to_the_logged_loss():
    """An L2 penalty on the weight matrix through ``penalty`` moves the weights as SGD's own
    weight decay does, and the logged loss grows by its row-weighted mean value."""
    decay, values = 0.3, []

    def run(penalize: bool):
        ffnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3, bias=False, dtype=ffnn.float64))
        weight = model[0].weight

        def penalty(weight_sum):
            values.append((0.5 * decay * float((weight.numpy() ** 2).sum()), weight_sum))
            weight.grad.add_(weight.detach() * decay)
            return values[-1][0]

        sgd = optim.SGD(model.parameters(), lr=0.1, weight_decay=0.0 if penalize else decay)
        trainer = Trainer(model, nn.CrossEntropyLoss(), sgd, seed=2,
                          penalty=penalty if penalize else None)
        history = trainer.fit(_data(), epochs=1, batch_size=16, shuffle=False, verbose=0)
        return weight.numpy().copy(), history["loss"][0]

    reference, plain_loss = run(False)
    weights, loss = run(True)
    np.testing.assert_allclose(weights, reference, rtol=1e-13, atol=1e-15)
    assert [rows for _, rows in values] == [16.0, 16.0, 8.0]
    mean_penalty = sum(v * rows for v, rows in values) / 40
    assert loss == pytest.approx(plain_loss + mean_penalty, rel=1e-12)


def test_terminate_on_nan_can_restore_the_epochs_start():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X @ rng.normal(size=4) * 1e3).astype(np.float32)
    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1))

    class EpochStarts(Callback):
        weights = []

        def on_epoch_begin(self, epoch, logs=None):
            self.weights.append(copy_weights(self.model))

    guard = TerminateOnNaN(restore="epoch", warn=False)
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5),
                      callbacks=[EpochStarts(), guard])
    with np.errstate(all="ignore"):
        trainer.fit((X, y), epochs=50, batch_size=16, verbose=0)
    assert guard.stopped_epoch is not None and guard.stopped_batch is not None
    assert not math.isfinite(guard.loss)
    assert len(EpochStarts.weights) == guard.stopped_epoch + 1
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), EpochStarts.weights[-1][key])
    with pytest.raises(ValueError, match=r"restore must be 'batch' or 'epoch'. Received: "
                                         r"restore='step'"):
        TerminateOnNaN(restore="step")
