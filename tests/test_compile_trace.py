"""ffnn.compile on models with a ``forward`` of their own (``ffnn.compiler.trace``): the first
call is the eager step, its forward read as a chain; the next calls replay that chain, bit
for bit the eager step (mode 'fused': to rounding); anything that is not a chain runs the
eager step with its reason."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ffnn
import ffnn.nn.functional as F
from ffnn import nn, optim
from ffnn.train import Trainer
from tests._fast_steps import count_fast_steps, eager_step


class Functional(nn.Module):
    """The PyTorch tutorials' form: layers as attributes, activations as functions."""

    def __init__(self, sizes=(6, 8, 8, 3)):
        super().__init__()
        self.fc1 = nn.Linear(sizes[0], sizes[1])
        self.fc2 = nn.Linear(sizes[1], sizes[2])
        self.fc3 = nn.Linear(sizes[2], sizes[3])

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.leaky_relu(self.fc2(x), 0.2)
        return self.fc3(x)


class InPlaceActivations(Functional):
    """The same network with torch's in-place functional activations
    (``F.relu(h, inplace=True)`` writes into h and returns it)."""

    def forward(self, x):
        x = F.relu(self.fc1(x), inplace=True)
        x = F.leaky_relu(self.fc2(x), 0.2, inplace=True)
        return self.fc3(x)


class WithModules(nn.Module):
    """Batch norm, dropout and activation modules called from the forward, a view first."""

    def __init__(self):
        super().__init__()
        self.fc1, self.bn = nn.Linear(16, 8), nn.BatchNorm1d(8)
        self.act, self.drop = nn.Tanh(), nn.Dropout(0.25)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.fc2(self.drop(self.act(self.bn(self.fc1(x)))))


class WithSequential(nn.Module):
    """A Sequential body (one node of the graph, native in the eager step) and a head."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 8), nn.SiLU())
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(ffnn.sigmoid(self.body(x)))


class Block(nn.Module):
    """A block of the program's own, inside a library ``Sequential``."""

    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)

    def forward(self, x):
        return ffnn.tanh(self.fc(x))


def in_sequential():
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), Block(8), nn.Linear(8, 3))


class Tutorial(nn.Module):
    """The MNIST tutorials' multilayer perceptron: a view, ReLU, dropout, log-softmax."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 12), nn.Linear(12, 3)
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        x = x.view(-1, 16)
        x = self.dropout(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


def _batches(rng, shape, steps, classes=3, dtype=np.float32):
    return [(ffnn.tensor(rng.standard_normal(shape).astype(dtype)),
             ffnn.tensor(rng.integers(0, classes, shape[0]))) for _ in range(steps)]


def _train(model_class, batches, mode=None, dtype=np.float32, make_optimizer=None):
    """(losses, parameters, buffers, the step) of training a fresh ``model_class()`` on
    ``batches``, compiled in ``mode`` (None: the eager step)."""
    ffnn.manual_seed(0)
    model = model_class()
    model = model.double() if dtype == np.float64 else model
    opt = (make_optimizer or (lambda p: optim.Adam(p, lr=1e-2)))(model.parameters())
    loss_fn = nn.NLLLoss() if model_class is Tutorial else nn.CrossEntropyLoss()
    step = ffnn.compile(model, loss_fn, opt, mode=mode) if mode else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback would warn
        losses = [step(x, y) if step else eager_step(model, loss_fn, opt, x, y)
                  for x, y in batches]
    return (losses, [p._data.copy() for p in model.parameters()],
            [b._data.copy() for b in model.buffers()], step)


@pytest.mark.parametrize("model_class,shape", [(Functional, (10, 6)),
                                               (InPlaceActivations, (10, 6)),
                                               (WithModules, (10, 4, 4)),
                                               (WithSequential, (10, 6)),
                                               (Tutorial, (10, 1, 4, 4)),
                                               (in_sequential, (10, 6))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_chain_forward_replays_bit_for_bit(model_class, shape, dtype, rng):
    batches = _batches(rng, shape, 5, dtype=dtype)
    expected, params, buffers, _ = _train(model_class, batches, dtype=dtype)
    losses, got_params, got_buffers, step = _train(model_class, batches, "replay", dtype)
    assert step.compiled and step.reason is None and step.chain is not None
    assert losses == expected
    for a, b in zip(params + buffers, got_params + got_buffers, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("model_class,shape", [(Functional, (10, 6)),
                                               (WithModules, (10, 4, 4))])
def test_a_chain_forward_fuses_to_rounding(model_class, shape, rng):
    batches = _batches(rng, shape, 5, dtype=np.float64)

    def sgd(params):
        return optim.SGD(params, lr=0.05, momentum=0.9)

    expected, params, _, _ = _train(model_class, batches, None, np.float64, sgd)
    losses, got, _, step = _train(model_class, batches, "fused", np.float64, sgd)
    assert step.compiled and step.fused is not None
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    for a, b in zip(params, got, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def test_the_first_call_is_the_eager_step_and_the_capture_follows(rng):
    model = Functional()
    step = ffnn.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    assert not step.compiled and step.chain is None  # nothing read before a call
    x, y = _batches(rng, (4, 6), 1)[0]
    step(x, y)
    assert not step.compiled  # that call ran eagerly, recording
    assert [layer[0].__name__ for layer in step.chain.layers] == [
        "Linear", "ReLU", "Linear", "LeakyReLU", "Linear"]
    assert step.chain.layers[3][2] == {"negative_slope": 0.2}
    step(x, y)
    assert step.compiled


def _twins(model_class):
    """(a model, its optimizer, a twin with the same weights, its optimizer and compiled
    step), trained with SGD on cross-entropy."""
    models = []
    for _ in range(2):
        ffnn.manual_seed(0)
        models.append(model_class())
    opt_e, opt = (optim.SGD(m.parameters(), lr=0.1) for m in models)
    return models[0], opt_e, models[1], opt, ffnn.compile(models[1], nn.CrossEntropyLoss(), opt)


def _fallback(model_class, shape, expected_reason, rng):
    """Every call is the eager step (the same losses and weights) and warns once with the
    reason."""
    batches = _batches(rng, shape, 3)
    eager_model, opt_e, model, _, step = _twins(model_class)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x, y in batches:
            assert step(x, y) == eager_step(eager_model, nn.CrossEntropyLoss(), opt_e, x, y)
    messages = [str(w.message) for w in caught if "ffnn.compile" in str(w.message)]
    assert len(messages) == 1 and expected_reason in messages[0], messages
    assert not step.compiled and expected_reason in step.reason
    for a, b in zip(eager_model.parameters(), model.parameters()):
        assert np.array_equal(a._data, b._data)


def test_a_forward_that_reads_values_runs_eagerly(rng):
    class Branching(Functional):
        def forward(self, x):
            h = F.relu(self.fc1(x))
            if h.sum() > 0:  # a value decides the path: not a chain
                h = F.relu(self.fc2(h))
            return self.fc3(h)

    class Reading(Functional):
        def forward(self, x):
            h = F.relu(self.fc1(x))
            if h.numpy().mean() > 0.3:  # a value read outside the graph picks the path
                return self.fc3(F.relu(self.fc2(h)))
            return self.fc3(ffnn.tanh(self.fc2(h)))

    _fallback(Branching, (4, 6), "Branching.forward reads a tensor's values (Tensor.__bool__)",
              rng)
    _fallback(Reading, (4, 6), "Reading.forward reads a tensor's values (Tensor.numpy)", rng)


def test_functional_dropout_with_a_generator_of_its_own_runs_eagerly(rng):
    class FunctionalDropout(Functional):
        def forward(self, x):
            return self.fc3(F.dropout(F.relu(self.fc2(F.relu(self.fc1(x)))), 0.5,
                                      self.training, generator=self.generator))

        def __init__(self):
            super().__init__()
            self.generator = ffnn.Generator().manual_seed(1)  # one stream per model

    _fallback(FunctionalDropout, (4, 6), "F.dropout with a generator of its own", rng)


class FunctionalDropout(Functional):
    """The older tutorials' dropout: ``F.dropout(x, p, training=self.training)``."""

    def forward(self, x):
        x = F.dropout(F.relu(self.fc1(x)), 0.3, training=self.training)
        return self.fc3(F.dropout(F.relu(self.fc2(x)), 0.5, self.training))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_dropout_on_the_global_stream_replays_bit_for_bit(dtype, rng):
    """The same masks as the eager step (drawn from the global stream in the same order):
    the same losses and weights."""
    batches = _batches(rng, (10, 6), 5, dtype=dtype)
    expected, params, _, _ = _train(FunctionalDropout, batches, dtype=dtype)
    losses, got, _, step = _train(FunctionalDropout, batches, "replay", dtype)
    assert step.compiled and [layer[0].__name__ for layer in step.chain.layers].count(
        "Dropout") == 2
    assert losses == expected
    for a, b in zip(params, got, strict=True):
        assert np.array_equal(a, b)


def test_functional_dropout_fuses_and_leaves_with_eval_mode(rng):
    batches = _batches(rng, (10, 6), 5, dtype=np.float64)
    expected, params, _, _ = _train(FunctionalDropout, batches, None, np.float64)
    losses, got, _, step = _train(FunctionalDropout, batches, "fused", np.float64)
    assert step.compiled and step.fused is not None
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    for a, b in zip(params, got, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)
    step.model.eval()  # training=self.training: no dropout now, the forward is read again
    x, y = batches[0]
    step(x, y)
    step(x, y)
    assert step.compiled and "Dropout" not in [layer[0].__name__ for layer in step.chain.layers]


def test_an_unused_layer_and_a_shared_layer_run_eagerly(rng):
    class Unused(Functional):
        def forward(self, x):
            return self.fc3(F.relu(self.fc1(x))[:, :8])

    class Shared(Functional):
        def forward(self, x):
            return self.fc3(F.relu(self.fc2(F.relu(self.fc2(F.relu(self.fc1(x)))))))

    class Skipping(Functional):
        def forward(self, x):
            return self.fc3(F.relu(self.fc1(x)))

    _fallback(Unused, (4, 6), "GetItem is not captured", rng)
    _fallback(Shared, (4, 6), "a parameter is used by two layers (shared weights)", rng)
    _fallback(Skipping, (4, 6), "a parameter of the model is not used by its chain", rng)


def test_a_forward_that_does_not_start_with_a_linear_layer_runs_eagerly(rng):
    class Squashing(Functional):
        def forward(self, x):
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(ffnn.tanh(x))))))

    _fallback(Squashing, (4, 6), "the chain does not start with a Linear layer", rng)


def test_hooks_and_forwards_set_on_an_instance_run_eagerly(rng):
    seen = []

    class Hooked(Functional):
        def __init__(self):
            super().__init__()
            self.fc2.register_forward_hook(lambda module, args, out: seen.append(out.shape))

    class Patched(Functional):
        def __init__(self):
            super().__init__()
            forward = self.fc1.forward
            self.fc1.forward = lambda x: forward(x)

    _fallback(Hooked, (4, 6), "Linear has forward hooks", rng)
    assert len(seen) == 2 * 3  # the hook ran at every step of both models
    _fallback(Patched, (4, 6), "Linear has a forward set on the instance", rng)


def test_a_forward_with_a_part_under_no_grad_runs_eagerly(rng):
    class Frozen(Functional):
        def forward(self, x):
            with ffnn.no_grad():  # fc1 gets no gradient: the chain step would give it one
                h = self.fc1(x)
            return self.fc3(F.relu(self.fc2(F.relu(h))))

    _fallback(Frozen, (4, 6), "Frozen.forward applies Linear without gradients (no_grad)",
              rng)


def test_a_forward_that_sets_attributes_runs_eagerly(rng):
    class Counting(Functional):
        calls = 0

        def forward(self, x):
            self.calls += 1
            return super().forward(x)

    _fallback(Counting, (4, 6), "Counting.forward changes the model's attributes", rng)


def test_a_changed_attribute_is_traced_again(rng):
    class Switching(Functional):
        def __init__(self):
            super().__init__()
            self.activation = "relu"

        def forward(self, x):
            act = F.relu if self.activation == "relu" else ffnn.tanh
            return self.fc3(act(self.fc2(act(self.fc1(x)))))

    batches = _batches(rng, (5, 6), 6)
    eager_model, opt_e, model, _, step = _twins(Switching)
    for i, (x, y) in enumerate(batches):
        if i == 3:
            eager_model.activation = model.activation = "tanh"
        assert step(x, y) == eager_step(eager_model, nn.CrossEntropyLoss(), opt_e, x, y)
        assert step.compiled == (i not in (0, 3))
    assert step.chain.layers[1][0].__name__ == "Tanh"
    for a, b in zip(eager_model.parameters(), model.parameters()):
        assert np.array_equal(a._data, b._data)


def test_other_batch_sizes_are_read_once_then_replay_and_other_shapes_trace_again(rng):
    """A new batch size runs the eager step once, its forward read again (the path may
    depend on the rows: ``guards``); the same path keeps the capture for both sizes."""
    class Viewing(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(16, 8), nn.Linear(8, 3)

        def forward(self, x):
            return self.fc2(ffnn.tanh(self.fc1(x.reshape(-1, 16))))

    shapes = [(6, 16), (3, 16), (3, 16), (6, 16), (4, 4, 4), (5, 2, 8), (2, 16)]
    compiled = []
    eager_model, opt_e, _, _, step = _twins(Viewing)
    for shape in shapes:
        x, y = _batches(rng, shape, 1)[0]
        assert step(x, y) == eager_step(eager_model, nn.CrossEntropyLoss(), opt_e, x, y)
        compiled.append(step.compiled)
    assert compiled == [False, False, True, True, False, False, False]  # new shapes read
    assert step.chain.flattens is False


def test_a_model_reading_a_batch_of_other_rows_raises_the_eager_error(rng):
    model = Functional()
    step = ffnn.compile(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1))
    step(*_batches(rng, (4, 6), 1)[0])
    with pytest.raises(ValueError, match="got input with 5 features"):
        step(ffnn.randn(4, 5), ffnn.randint(0, 3, (4,)))


def _fit(model_class, fast_step, compile=False, epochs=3):
    """(parameters, logged losses, the trainer) after a few epochs on a small table."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 16)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    ffnn.manual_seed(0)
    model = model_class()
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01),
                      seed=3, fast_step=fast_step, compile=compile)
    history = trainer.fit((X, y), epochs=epochs, batch_size=16, verbose=0)
    return [p.numpy().copy() for p in model.parameters()], history.history["loss"], trainer


class TableNet(WithModules):
    """``WithModules`` on rows of 16 features (its view is the identity)."""


@pytest.mark.parametrize("model_class", [TableNet, lambda: Functional((16, 8, 8, 3)),
                                         lambda: FunctionalDropout((16, 8, 8, 3))])
def test_the_trainer_takes_the_chain_read_from_the_first_batch(model_class, monkeypatch):
    calls = count_fast_steps(monkeypatch)
    fast, fast_losses, trainer = _fit(model_class, True)
    assert trainer._chain is not None and trainer._chain.traced_shape == (16,)
    # every batch but the first, read from its forward, and the first of the last batch's
    # size, read again (``guards``: the path may depend on the rows)
    assert len(calls) == 3 * 3 - 2
    graph, graph_losses, _ = _fit(model_class, False)
    assert len(calls) == 3 * 3 - 2  # fast_step=False: the graph only
    assert fast_losses == graph_losses
    for a, b in zip(fast, graph, strict=True):
        assert np.array_equal(a, b)


def test_the_trainer_fuses_a_chain_read_from_a_forward(monkeypatch):
    fused, losses, trainer = _fit(lambda: Functional((16, 8, 8, 3)), True, compile="fused")
    assert trainer._fused_capture[1] is not None
    graph, graph_losses, _ = _fit(lambda: Functional((16, 8, 8, 3)), False)
    np.testing.assert_allclose(losses, graph_losses, rtol=1e-5)
    for a, b in zip(fused, graph, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_the_trainer_trains_a_forward_that_is_no_chain_with_the_graph(monkeypatch):
    calls = count_fast_steps(monkeypatch)
    _, _, trainer = _fit(_Residual, True)
    assert trainer._chain is None and not calls
    with pytest.warns(UserWarning, match="compile='fused' is off") as caught:
        _fit(_Residual, True, compile="fused")
    assert len([w for w in caught if "compile='fused'" in str(w.message)]) == 1


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(16, 16), nn.Linear(16, 3)

    def forward(self, x):
        return self.b(x + F.relu(self.a(x)))


ENDS = {"squeeze(1)": lambda out: out.squeeze(1), "squeeze()": lambda out: out.squeeze(),
        "view(-1)": lambda out: out.view(-1), "flatten()": lambda out: out.flatten(),
        "F.flatten": lambda out: ffnn.flatten(out),
        "sigmoid, squeeze(1)": lambda out: ffnn.sigmoid(out).squeeze(1)}


class Regressor(nn.Module):
    """The regression tutorials' network: one output column, reshaped to [n] to meet [n]
    targets in the loss."""

    def __init__(self, end="squeeze(1)"):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(5, 8), nn.Linear(8, 1)
        self.end = ENDS[end]

    def forward(self, x):
        return self.end(self.fc2(F.tanh(self.fc1(x))))


def _regression(rng, rows=(10, 10, 7, 10), dtype=np.float64):
    return [(ffnn.tensor(rng.standard_normal((n, 5)).astype(dtype)),
             ffnn.tensor(rng.standard_normal(n).astype(dtype))) for n in rows]


def _train_regressor(end, batches, mode, loss_fn, dtype=np.float64):
    """(losses, parameters, outputs, the step) of SGD with momentum on ``batches``."""
    ffnn.manual_seed(0)
    model = Regressor(end).double() if dtype == np.float64 else Regressor(end)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = ffnn.compile(model, loss_fn, opt, mode=mode) if mode else None
    losses, outputs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback would warn
        for x, y in batches:
            if step is None:
                out = model(x)
                loss = loss_fn(out, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(float(loss._data))
                outputs.append(out._data.copy())
            else:
                losses.append(step(x, y))
                outputs.append(np.array(step.output))
    return losses, [p._data.copy() for p in model.parameters()], outputs, step


@pytest.mark.parametrize("end", list(ENDS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_closing_squeeze_to_n_targets_replays_bit_for_bit(end, dtype, rng):
    batches = _regression(rng, dtype=dtype)
    expected, params, outputs, _ = _train_regressor(end, batches, None, nn.MSELoss(), dtype)
    losses, got, got_outputs, step = _train_regressor(end, batches, "replay", nn.MSELoss(),
                                                      dtype)
    assert step.compiled and step.chain.squeezes
    assert losses == expected
    for a, b in zip(params + outputs, got + got_outputs, strict=True):
        assert a.shape == b.shape and np.array_equal(a, b)
    assert step.output_like(batches[0][0]).shape == (10,)


@pytest.mark.parametrize("end,loss_fn", [("view(-1)", nn.MSELoss()),
                                         ("view(-1)", nn.BCEWithLogitsLoss()),
                                         ("sigmoid, squeeze(1)", nn.BCELoss())],
                         ids=["mse", "bce_logits", "sigmoid_bce"])
def test_a_closing_squeeze_fuses_to_rounding(end, loss_fn, rng):
    batches = _regression(rng)
    if not isinstance(loss_fn, nn.MSELoss):  # binary labels
        batches = [(x, ffnn.tensor((y._data > 0).astype(np.float64))) for x, y in batches]
    expected, params, outputs, _ = _train_regressor(end, batches, None, loss_fn)
    losses, got, got_outputs, step = _train_regressor(end, batches, "fused", loss_fn)
    assert step.compiled and step.fused is not None and step.fused.squeezes
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    for a, b in zip(params + outputs, got + got_outputs, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_one_row_through_a_closing_squeeze_runs_eagerly(mode, rng):
    """``.squeeze()`` of one row is 0-d where ``.view(-1)`` is [1]: the record cannot tell
    them apart, so a batch of one row runs the forward itself."""
    batches = _regression(rng, rows=(10, 1, 1, 10))
    ffnn.manual_seed(0)
    model = Regressor("view(-1)").double()
    step = ffnn.compile(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05), mode=mode)
    step(*batches[0])
    step(*batches[1])  # a new batch size: the forward is read again
    assert not step.compiled and step.output.shape == (1,)
    with pytest.warns(UserWarning, match="one row through the forward's closing squeeze"):
        step(*batches[2])
    assert not step.compiled and step.output.shape == (1,)
    step(*batches[3])
    assert step.compiled and step.output.shape == (10,)


def test_a_target_of_another_shape_than_the_squeezed_output_gets_the_eager_error(rng):
    (x, y), = _regression(rng, rows=(10,))
    ffnn.manual_seed(0)
    model = Regressor().double()
    step = ffnn.compile(model, nn.L1Loss(), optim.SGD(model.parameters(), lr=0.05))
    step(x, y)
    with pytest.warns(UserWarning, match="not a floating-point array shaped like the output"), \
            pytest.raises(ValueError, match=r"input shape \(10,\) and target shape \(10, 1\)"):
        step(x, y.view(10, 1))


@pytest.mark.parametrize("compile", [False, "fused"])
def test_the_trainer_takes_a_chain_with_a_closing_squeeze(compile, monkeypatch):
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((40, 5)), rng.standard_normal(40)
    results = []
    for fast_step in (True, False):
        calls = count_fast_steps(monkeypatch)
        ffnn.manual_seed(0)
        model = Regressor("view(-1)").double()
        trainer = Trainer(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=0.01),
                          seed=3, fast_step=fast_step, compile=compile)
        history = trainer.fit((X, y), epochs=3, batch_size=16, verbose=0)
        results.append((history.history["loss"], [p.numpy().copy() for p in
                                                  model.parameters()], len(calls), trainer))
    (fast_losses, fast, fast_calls, trainer), (losses, graph, graph_calls, _) = results
    assert trainer._chain is not None and trainer._chain.squeezes and graph_calls == 0
    if compile:
        assert trainer._fused_capture[1] is not None
        np.testing.assert_allclose(fast_losses, losses, rtol=1e-12)
        for a, b in zip(fast, graph, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    else:
        assert fast_calls == 3 * 3 - 2  # but the first, and the first of 8 rows: read
        assert fast_losses == losses
        for a, b in zip(fast, graph, strict=True):
            assert np.array_equal(a, b)


class CastsFirst(Functional):
    """A forward that casts its input first (``x.float()``), then flattens it."""

    def __init__(self):
        super().__init__((16, 8, 8, 3))

    def forward(self, x):
        return super().forward(x.float().view(x.size(0), -1))


class ViewsThenCasts(CastsFirst):
    def forward(self, x):
        return Functional.forward(self, x.view(-1, 16).float())


class CastsBeforeASequential(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))

    def forward(self, x):
        return self.net(x.float())


@pytest.mark.parametrize("model_class,shape", [(CastsFirst, (10, 4, 4)),
                                               (ViewsThenCasts, (10, 4, 4)),
                                               (CastsBeforeASequential, (10, 6))])
@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_a_forward_casting_its_float64_input_first_is_captured(model_class, shape, mode, rng):
    """Data in float64 (NumPy's default) and ``x.float()`` in the forward: the step casts x
    as the forward does; replayed bit for bit, fused to rounding."""
    batches = _batches(rng, shape, 5, dtype=np.float64)
    expected, params, _, _ = _train(model_class, batches)
    losses, got, _, step = _train(model_class, batches, mode)
    assert step.compiled and step.chain.cast == np.float32
    assert (step.fused is not None) == (mode == "fused")
    if mode == "replay":
        assert losses == expected
        for a, b in zip(params, got, strict=True):
            assert np.array_equal(a, b)
    else:
        np.testing.assert_allclose(losses, expected, rtol=1e-5)
        for a, b in zip(params, got, strict=True):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_a_forward_casting_to_another_dtype_than_its_parameters_runs_eagerly(rng):
    class CastsToDouble(Functional):
        def forward(self, x):
            return super().forward(x.double())

    _fallback(CastsToDouble, (4, 6), "the forward casts its input to float64", rng)
