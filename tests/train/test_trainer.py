"""Trainer: determinism, resuming, data forms, clipping, L1, predict, and input checks."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn, optim
from ffnn.data import ArrayDataset, DataLoader, GaussianNoise
from ffnn.train import Trainer
from tests.train.conftest import make_model, make_trainer


def weights(model):
    return [p.numpy().copy() for p in model.parameters()]


def run(seed, blobs, epochs=4):
    X, y = blobs
    model = make_model(dropout=0.3)  # same initial weights each time (global seed 0)
    trainer = make_trainer(model, seed=seed, metrics=["accuracy"])
    history = trainer.fit((X, y), validation_split=0.2, epochs=epochs, batch_size=16,
                          augment=GaussianNoise(0.1), verbose=0)
    return history, weights(model)


def test_same_seed_gives_identical_history_and_bit_identical_weights(blobs):
    h1, w1 = run(7, blobs)
    ffnn.manual_seed(123)  # the global state before fit does not matter
    h2, w2 = run(7, blobs)
    assert h1.history == h2.history and h1.epoch == h2.epoch
    for a, b in zip(w1, w2):
        assert a.tobytes() == b.tobytes()
    _, w3 = run(8, blobs)
    assert any(not np.array_equal(a, b) for a, b in zip(w1, w3))


def test_resume_at_an_epoch_boundary_equals_an_uninterrupted_run(blobs):
    X, y = blobs
    straight = make_trainer(make_model(dropout=0.3), seed=3)
    straight.fit((X, y), epochs=4, batch_size=16, verbose=0)
    resumed = make_trainer(make_model(dropout=0.3), seed=3)
    resumed.fit((X, y), epochs=2, batch_size=16, verbose=0)
    assert resumed.epoch == 2 and resumed.global_step == 2 * 8
    resumed.fit((X, y), epochs=4, batch_size=16, initial_epoch=2, verbose=0)
    assert resumed.history.history == straight.history.history
    assert resumed.history.epoch == [0, 1, 2, 3] and resumed.global_step == 4 * 8
    for a, b in zip(weights(resumed.model), weights(straight.model)):
        assert a.tobytes() == b.tobytes()


def test_rng_state_round_trip():
    trainer = make_trainer(seed=5)
    trainer.seed_epoch(3)
    state = trainer.rng_state()
    a = (trainer.loader_generator.rng.random(), ffnn.random.rng().random())
    trainer.set_rng_state(state)
    assert (trainer.loader_generator.rng.random(), ffnn.random.rng().random()) == a


def test_arrays_dataset_and_loader_give_the_same_run(blobs):
    X, y = blobs
    results = []
    for data in [(X, y), ArrayDataset(X, y)]:
        trainer = make_trainer(make_model(), seed=1)
        results.append(trainer.fit(data, epochs=2, batch_size=16, verbose=0).history)
    trainer = make_trainer(make_model(), seed=1)
    trainer.seed_epoch(0)
    loader = DataLoader(ArrayDataset(X, y), batch_size=16, shuffle=True,
                        generator=trainer.loader_generator)
    results.append(trainer.fit(loader, epochs=2, verbose=0).history)
    assert results[0] == results[1] == results[2]


def test_grad_clip_bounds_the_step():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 4)).astype(np.float32)
    y = (X.sum(1) * 10).astype(np.float32)
    ffnn.manual_seed(0)
    model = nn.Linear(4, 1)
    before = np.concatenate([p.numpy().ravel() for p in model.parameters()])
    trainer = Trainer(model, "mse", optim.SGD(model.parameters(), lr=1.0), grad_clip=0.5)
    trainer.fit((X, y), epochs=1, batch_size=32, verbose=0)
    after = np.concatenate([p.numpy().ravel() for p in model.parameters()])
    assert np.linalg.norm(after - before) == pytest.approx(0.5, rel=1e-4)


def test_l1_adds_lambda_sign_w_to_the_weight_gradients(blobs):
    X, y = blobs
    runs = []
    for l1 in (0.0, 0.25):
        model = make_model()
        trainer = Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), l1=l1)
        start = weights(model)
        history = trainer.fit((X, y), epochs=1, batch_size=120, verbose=0)
        runs.append((start, weights(model), history["loss"][0]))
    (w0, plain, loss0), (_, with_l1, loss1) = runs
    for start, a, b in zip(w0, plain, with_l1):
        expected = -0.1 * 0.25 * np.sign(start) if start.ndim == 2 else 0.0
        np.testing.assert_allclose(b - a, expected, atol=1e-6)
    assert loss0 == loss1  # the logged loss is the data loss


def test_predict_and_predict_proba(blobs):
    X, y = blobs
    trainer = make_trainer(metrics=["accuracy"])
    trainer.fit((X, y), epochs=20, verbose=0)
    proba = trainer.predict_proba(X, batch_size=7)
    assert proba.shape == (120, 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    labels = trainer.predict(X)
    np.testing.assert_array_equal(labels, proba.argmax(1))
    assert np.mean(labels == y) == trainer.evaluate((X, y))["accuracy"] > 0.9
    assert trainer.model.training  # mode restored


def test_binary_and_regression_targets_of_shape_n():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.float32)
    ffnn.manual_seed(0)
    model = nn.Linear(3, 1)
    trainer = Trainer(model, "bce_with_logits", optim.Adam(model.parameters(), lr=0.1),
                      metrics=["accuracy"])
    history = trainer.fit((X, y), epochs=20, verbose=0)
    assert history["accuracy"][-1] > 0.9  # measured 0.97-0.99 (seeds 0-2): 7+ rows of margin
    assert trainer.predict(X).shape == (100,) and trainer.predict_proba(X).shape == (100, 1)
    model = nn.Linear(3, 1)
    trainer = Trainer(model, "mse", optim.Adam(model.parameters(), lr=0.1), metrics=["r2"])
    trainer.fit((X, X @ np.array([1.0, 2.0, 3.0], np.float32)), epochs=30, verbose=0)
    assert trainer.history["r2"][-1] > 0.99
    with pytest.raises(TypeError, match="predict_proba needs a classification loss.*MSELoss"):
        trainer.predict_proba(X)


def test_input_checks_name_the_argument(blobs):
    X, y = blobs
    trainer = make_trainer()
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"train\[0\] \(X\) must contain only finite values.*"
                                         r"row 5 \(column 2\)"):
        trainer.fit((bad, y), verbose=0)
    with pytest.raises(ValueError, match=r"val\[0\] \(X\) must contain only finite"):
        trainer.fit((X, y), (bad, y), verbose=0)
    with pytest.raises(ValueError, match=r"must be a 2-D .*Received: train\[0\] \(X\) with "
                                         r"shape \(120,\)"):
        trainer.fit((X[:, 0], y), verbose=0)
    with pytest.raises(ValueError, match=r"one entry per sample of X \(120\).*shape \(119,\)"):
        trainer.fit((X, y[:-1]), verbose=0)
    big = y.copy()
    big[9] = 3
    with pytest.raises(ValueError, match=r"class labels in 0..2 \(the model has 3 outputs\); "
                                         r"row 9 holds 3"):
        trainer.fit((X, big), verbose=0)
    with pytest.raises(ValueError, match="integer class labels.*row 0 holds 0.5"):
        trainer.fit((X, np.full(120, 0.5)), verbose=0)
    with pytest.raises(ValueError, match="either val or validation_split"):
        trainer.fit((X, y), (X, y), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match=r"Received: validation_split=1.5"):
        trainer.fit((X, y), validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        trainer.fit((X, y), batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="Received: epochs=-1"):
        trainer.fit((X, y), epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="Received: verbose=3"):
        trainer.fit((X, y), verbose=3)
    with pytest.raises(TypeError, match="Received: train of type int"):
        trainer.fit(5, verbose=0)
    with pytest.raises(ValueError, match=r"X must contain only finite values"):
        trainer.predict(bad)


def test_constructor_checks():
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="model must be an ffnn.nn.Module"):
        Trainer(3, "mse", opt)
    with pytest.raises(TypeError, match="optimizer must be an ffnn.optim optimizer"):
        Trainer(model, "mse", object())
    with pytest.raises(ValueError, match="Received: loss='hinge'"):
        Trainer(model, "hinge", opt)
    with pytest.raises(ValueError, match="Received: grad_clip=0"):
        Trainer(model, "mse", opt, grad_clip=0)
    with pytest.raises(ValueError, match="Received: l1=-1"):
        Trainer(model, "mse", opt, l1=-1)
    with pytest.raises(ValueError, match="Received: seed=-2"):
        Trainer(model, "mse", opt, seed=-2)
    with pytest.raises(ValueError, match="Received: scheduler_interval='step'"):
        Trainer(model, "mse", opt, scheduler_interval="step")
    with pytest.raises(TypeError, match=r"callbacks\[0\] must be an ffnn.train.Callback"):
        Trainer(model, "mse", opt, callbacks=[print]).fit((np.ones((4, 4)), np.ones(4)),
                                                          verbose=0)


@pytest.mark.parametrize("rows", [0])
def test_fit_on_no_samples_is_refused(rows):
    trainer = make_trainer(make_model())
    X, y = np.zeros((rows, 2), np.float32), np.zeros(rows, np.int64)
    with pytest.raises(ValueError, match=r"train has 0 samples; at least 1 is needed. "
                                         r"Received: train\[0\] \(X\) of shape \(0, 2\)"):
        trainer.fit((X, y), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="no batch"):
        trainer.fit(ArrayDataset(X, y), epochs=1, verbose=0)


def test_a_monitor_that_is_not_logged_is_refused_before_training(blobs, tmp_path):
    from ffnn.train import EarlyStopping, ModelCheckpoint

    X, y = blobs
    model = make_model()
    before = weights(model)
    cases = [(EarlyStopping(monitor="val_acuracy"), "did you mean 'val_accuracy'"),
             (ModelCheckpoint(tmp_path / "ckpt", save_best=True, monitor="val_loss"),
              "there is no validation data")]
    for callback, message in cases:
        trainer = make_trainer(model, metrics=["accuracy"], callbacks=[callback])
        val = (X[:20], y[:20]) if "mean" in message else None
        with pytest.raises(ValueError, match=message):
            trainer.fit((X, y), val, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, weights(model)))
    assert not (tmp_path / "ckpt").exists()  # nothing written
    trainer = make_trainer(model, metrics=["accuracy"], callbacks=[
        EarlyStopping(monitor="val_accuracy"), ModelCheckpoint(tmp_path / "ok", monitor="typo")])
    trainer.fit((X, y), (X[:20], y[:20]), epochs=1, verbose=0)  # save_best off: unused


def test_fit_on_a_single_array_is_refused_not_read_as_pairs():
    """A (n, 2) array is a Dataset of rows: fit(X) would train on x = X[:, 0], y = X[:, 1]."""
    model = nn.Linear(1, 1)
    trainer = Trainer(model, "mse", optim.SGD(model.parameters(), lr=0.1))
    before = model.weight.numpy().copy()
    for train in (np.ones((8, 2)), ffnn.ones(8, 2)):
        with pytest.raises(TypeError, match=r"Pass train=\(X, y\). Received: train of type "
                                            r"(ndarray|Tensor) with shape \(8, 2\)"):
            trainer.fit(train, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.weight.numpy(), before)


def test_epoch_streams_are_fixed_by_seed_and_epoch_and_differ_between_epochs():
    """seed_epoch(e) puts both generators at stream e of the trainer's seed: the same draws
    for the same (seed, e) whatever ran before, other draws for another epoch or seed."""
    def draws(seed, epoch):
        trainer = make_trainer(seed=seed)
        ffnn.manual_seed(99)  # the global state before does not matter
        trainer.seed_epoch(epoch)
        return (trainer.loader_generator.rng.random(3).tolist(),
                ffnn.random.rng().random(3).tolist())

    assert draws(5, 2) == draws(5, 2)
    assert draws(5, 2)[0] != draws(5, 3)[0] and draws(5, 2)[1] != draws(5, 3)[1]
    assert draws(5, 2) != draws(6, 2)
    loader, glob = draws(5, 0)
    assert loader != glob  # two streams, not one


def test_set_stream_zero_is_the_state_itself():
    state = np.random.PCG64(11).state
    expected = np.random.Generator(np.random.PCG64(11)).random(4)
    generator = ffnn.Generator(0).set_stream(state, 0)
    np.testing.assert_array_equal(generator.rng.random(4), expected)
    assert generator.initial_seed() == 0


def test_a_stream_is_entered_when_first_used_and_its_position_is_known_before():
    """set_stream defers the jump to the first draw; the state read before any draw, the
    position a loader records and the draws are those of the stream entered at once."""
    state = np.random.PCG64(11).state
    entered = np.random.PCG64(11)
    entered.advance(3 << 64)
    generator = ffnn.Generator(5).set_stream(state, 3)
    assert ffnn.random.state_at(generator.position()) == ffnn.random.jsonable(entered.state)
    assert generator.get_state()["bit_generator"] == ffnn.random.jsonable(entered.state)
    generator.set_stream(state, 3)
    np.testing.assert_array_equal(generator.rng.random(4),
                                  np.random.Generator(entered).random(4))
    generator.set_stream(state, 3)
    generator.set_state({"seed": 5, "bit_generator": np.random.PCG64(2).state})
    np.testing.assert_array_equal(generator.rng.random(3),  # set_state drops a pending stream
                                  np.random.Generator(np.random.PCG64(2)).random(3))


def test_the_fast_step_is_captured_again_only_when_the_model_changes():
    ffnn.manual_seed(0)
    trainer = make_trainer(nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)))
    first = trainer._fast_chain()
    assert first is not None and trainer._fast_chain() is first
    trainer.model[0] = nn.Linear(trainer.model[0].in_features, trainer.model[0].out_features)
    again = trainer._fast_chain()
    assert again is not None and again is not first
    assert again.params[0] is trainer.model[0].weight


class _SqueezedRegressor(nn.Module):
    """A regression network whose forward ends in ``.squeeze(1)``: its output is [n]."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1))

    def forward(self, x):
        return self.body(x).squeeze(1)


@pytest.mark.parametrize("fast_step", [True, False])
def test_a_model_with_an_n_output_trains_on_n_and_n_by_1_targets(fast_step):
    """The targets take the output's shape: [n] as given (not [n, 1], which the loss would
    refuse against [n]), and [n, 1] as [n]; the losses are those of a hand-written loop."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((24, 3)), rng.standard_normal(24)
    histories = []
    for target in (y, y[:, None]):
        ffnn.manual_seed(0)
        model = _SqueezedRegressor().double()
        trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
                          fast_step=fast_step)
        histories.append(trainer.fit((X, target), epochs=2, batch_size=24, shuffle=False,
                                     verbose=0).history["loss"])
    ffnn.manual_seed(0)
    model = _SqueezedRegressor().double()
    opt = optim.SGD(model.parameters(), lr=0.1)
    expected = []
    for _ in range(2):
        loss = nn.MSELoss()(model(ffnn.tensor(X)), ffnn.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        expected.append(float(loss._data))
    assert histories[0] == histories[1]
    np.testing.assert_allclose(histories[0], expected, rtol=1e-12)
