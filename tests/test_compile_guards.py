"""A traced forward's Python path, guarded (``ffnn.compiler.guards``): a compiled step of a
model whose ``forward`` branches on the batch size, a global, a list on the module, or
Python's random numbers is the eager step at every call, bit for bit (replay) or to
rounding (fused), and a path that cannot be guarded runs eagerly with its reason."""

from __future__ import annotations

import functools
import random
import types
import warnings

import numpy as np
import pytest

import ffnn
from ffnn import nn, optim
from ffnn.nn import functional as F
from ffnn.train import Callback, Trainer
from tests._fast_steps import count_fast_steps, eager_step

USE_RELU = True
SETTINGS = {"relu": True}
OPTIONS = types.SimpleNamespace(relu=True)
CONFIG = types.ModuleType("config")  # a module of settings, as ``import config``
CONFIG.relu = True
FLAG = np.array([True])


def _activate(h, relu: bool):
    return F.relu(h) if relu else ffnn.tanh(h)


def _by_global(h):
    return _activate(h, USE_RELU)


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.out = nn.Linear(6, 8), nn.Linear(8, 3)
        self.switches = [True]


class BatchDependent(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x), x.size(0) > 4))


class GlobalFlag(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x), USE_RELU))


class GlobalDict(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x), SETTINGS["relu"]))


class ListAttribute(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x), self.switches[0]))


class HelperMethod(_Net):
    def forward(self, x):
        return self.out(self.act(self.fc(x)))

    def act(self, h):
        return _by_global(h)


class ClassFlag(_Net):
    RELU = True

    def forward(self, x):
        return self.out(_activate(self.fc(x), self.RELU and ClassFlag.RELU))


class ModuleSetting(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x), CONFIG.relu))


class Parent(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x), USE_RELU))


class CallsSuper(Parent):
    def forward(self, x):
        return super().forward(x)


class StaticHelper(_Net):
    def forward(self, x):
        return self.out(StaticHelper.act(self.fc(x)))

    @staticmethod
    def act(h):
        return _by_global(h)


class _Block(nn.Module):
    def custom(self, h):
        return _by_global(h)


class SubmoduleMethod(_Net):
    def __init__(self):
        super().__init__()
        self.block = _Block()

    def forward(self, x):
        return self.out(self.block.custom(self.fc(x)))


class _Activation:
    def __init__(self):
        self.relu = True

    def __call__(self, h):
        return _activate(h, self.relu)


class CallableObject(_Net):
    def __init__(self):
        super().__init__()
        self.act = _Activation()

    def forward(self, x):
        return self.out(self.act(self.fc(x)))


class Partial(_Net):
    def __init__(self):
        super().__init__()
        self.act = functools.partial(_activate, relu=True)

    def forward(self, x):
        return self.out(self.act(self.fc(x)))


class InnerFunction(_Net):
    def forward(self, x):
        def act(h):
            return _activate(h, self.switches[0])
        return self.out(act(self.fc(x)))


def _closure_model():
    """A class written inside a function, its forward reading the function's variable."""
    switches = {"relu": True}

    class Closure(_Net):
        def forward(self, x):
            return self.out(_activate(self.fc(x), switches["relu"]))

    Closure.switches_of_closure = switches
    return Closure


Closure = _closure_model()


class DtypeBranch(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x.double()), x.dtype == ffnn.float64))


class CastsOtherDtypes(_Net):
    def forward(self, x):
        if x.dtype != ffnn.float64:
            x = x.double()
        return self.out(F.relu(self.fc(x)))


class SeedsItsDropout(_Net):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        ffnn.manual_seed(0)
        return self.out(self.drop(F.relu(self.fc(x))))


class ReadsAnArray(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x), FLAG[0]))


class LayerDrop(_Net):
    def forward(self, x):
        h = self.fc(x)
        return self.out(h if random.random() < 0.5 else ffnn.tanh(h))


class NumpyDrop(_Net):
    def forward(self, x):
        h = self.fc(x)
        return self.out(h if np.random.random() < 0.5 else ffnn.tanh(h))


class Appends(_Net):
    def forward(self, x):
        h = F.relu(self.fc(x))
        self.switches.append(False)
        return self.out(h)


class ReadsAnObject(_Net):
    def forward(self, x):
        return self.out(_activate(self.fc(x), OPTIONS.relu))


def _flip(*models):
    """Every switch the models above read, turned the other way (each model's own too)."""
    global USE_RELU
    USE_RELU = not USE_RELU
    SETTINGS["relu"] = not SETTINGS["relu"]
    ClassFlag.RELU = not ClassFlag.RELU
    CONFIG.relu = not CONFIG.relu
    Closure.switches_of_closure["relu"] = not Closure.switches_of_closure["relu"]
    for model in models:
        model.switches[0] = not model.switches[0]
        if isinstance(model, CallableObject):
            model.act.relu = not model.act.relu
        if isinstance(model, Partial):
            model.act.keywords["relu"] = not model.act.keywords["relu"]


@pytest.fixture(autouse=True)
def _switches_back():
    yield
    _switches_back_now()


def _compare(model_class, mode, rows, flips, rng, expect_warning=None):
    """Train a model and its twin, eagerly and compiled, on batches of ``rows``, flipping
    the switches before the steps in ``flips``; returns the compiled flags."""
    models = []
    for _ in range(2):
        ffnn.manual_seed(0)
        models.append(model_class().double())
    eager_model, model = models
    opt_e, opt = (optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in models)
    step = ffnn.compile(model, nn.MSELoss(), opt, mode=mode)
    compiled = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i, n in enumerate(rows):
            if i in flips:
                _flip(eager_model, model)
            x, y = (ffnn.tensor(rng.standard_normal((n, k))) for k in (6, 3))
            random.seed(i)
            np.random.seed(i)
            expected = eager_step(eager_model, nn.MSELoss(), opt_e, x, y)
            random.seed(i)
            np.random.seed(i)
            got = step(x, y)
            if mode == "replay":
                assert got == expected, i
            else:
                assert got == pytest.approx(expected, rel=1e-12), i
            compiled.append(step.compiled)
    for a, b in zip(eager_model.parameters(), model.parameters(), strict=True):
        np.testing.assert_allclose(a._data, b._data, rtol=0 if mode == "replay" else 1e-12,
                                   atol=0 if mode == "replay" else 1e-14)
    messages = [str(w.message) for w in caught]
    if expect_warning is None:
        assert not messages, messages
    else:
        assert any(expect_warning in m for m in messages), messages
    return compiled


@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_a_path_that_depends_on_the_batch_size_is_read_for_each_new_size(mode, rng):
    compiled = _compare(BatchDependent, mode, [8, 8, 3, 3, 2, 2, 8, 8], (), rng)
    # each new size read again: 3 takes another path (a chain of its own), 2 the same as 3
    assert compiled == [False, True, False, True, False, True, False, True]


@pytest.mark.parametrize("model_class", [
    GlobalFlag, GlobalDict, ListAttribute, HelperMethod, ClassFlag, ModuleSetting, CallsSuper,
    StaticHelper, SubmoduleMethod, CallableObject, Partial, InnerFunction, Closure])
@pytest.mark.parametrize("mode", ["replay", "fused"])
def test_a_path_chosen_by_a_global_or_a_list_is_read_again_when_it_changes(model_class, mode,
                                                                          rng):
    compiled = _compare(model_class, mode, [8] * 6, (2, 4), rng)
    assert compiled == [False, True, False, True, False, True]


@pytest.mark.parametrize("model_class,reason", [
    (LayerDrop, "LayerDrop.forward draws random numbers or seeds a generator"),
    (NumpyDrop, "NumpyDrop.forward draws random numbers or seeds a generator"),
    (Appends, "Appends.forward changes the model's attributes"),
    (ReadsAnObject, "reads 'OPTIONS', a SimpleNamespace that can change"),
    (ReadsAnArray, "reads 'FLAG', a ndarray that can change"),
    (SeedsItsDropout, "SeedsItsDropout.forward draws random numbers or seeds a generator")])
def test_a_path_that_cannot_be_guarded_runs_eagerly(model_class, reason, rng):
    compiled = _compare(model_class, "replay", [8] * 4, (), rng, expect_warning=reason)
    assert not any(compiled)


@pytest.mark.parametrize("model_class", [DtypeBranch, CastsOtherDtypes])
def test_a_path_that_depends_on_the_input_dtype_is_read_for_each_dtype(model_class, rng):
    """Float32 batches after float64 ones: read again, their path taken (a cast first, which
    NumPy's ``dtype == None`` once made the same path as none), bit for bit."""
    models = []
    for _ in range(2):
        ffnn.manual_seed(0)
        models.append(model_class().double())
    opt_e, opt = (optim.SGD(m.parameters(), lr=0.1) for m in models)
    step = ffnn.compile(models[1], nn.MSELoss(), opt)
    for dtype in (np.float64, np.float64, np.float32, np.float32, np.float32):
        x = ffnn.tensor(rng.standard_normal((8, 6)).astype(dtype))
        y = ffnn.tensor(rng.standard_normal((8, 3)))
        expected = eager_step(models[0], nn.MSELoss(), opt_e, x, y)
        assert step(x, y) == expected
    assert step.compiled
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert np.array_equal(b._data, a._data) and np.array_equal(b._grad, a._grad)


class _FlipAfterFirstEpoch(Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            _flip(self.trainer.model)


@pytest.mark.parametrize("model_class,fast_batches", [(GlobalFlag, 5), (BatchDependent, 3)])
def test_the_trainer_follows_a_path_that_changes(model_class, fast_batches, monkeypatch):
    """The trainer's fast step of a traced forward (its last batch smaller; a global flipped
    after the first epoch) trains as the graph does, and takes the fast step again once the
    forward is read again. Of 3 epochs of 16, 16 and 4 rows: ``GlobalFlag`` is read at
    its first batch, at the first after the flip and at the first of 4 rows after each;
    ``BatchDependent``, whose 4 rows take another path, at each change of size."""
    calls = count_fast_steps(monkeypatch)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((36, 6)), rng.standard_normal((36, 3))  # batches 16, 16, 4
    results = []
    for fast_step in (True, False):
        _switches_back_now()
        ffnn.manual_seed(0)
        model = model_class().double()
        trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05), seed=1,
                          fast_step=fast_step, callbacks=[_FlipAfterFirstEpoch()])
        history = trainer.fit((X, y), epochs=3, batch_size=16, verbose=0)
        results.append((history.history["loss"], [p.numpy().copy() for p in
                                                  model.parameters()], trainer))
        if fast_step:
            assert len(calls) == fast_batches
    (fast_losses, fast, trainer), (losses, graph, _) = results
    assert trainer._chain is not None and trainer._chain.guards is not None
    assert fast_losses == losses
    for a, b in zip(fast, graph, strict=True):
        assert np.array_equal(a, b)


def _switches_back_now():
    global USE_RELU
    USE_RELU, SETTINGS["relu"], OPTIONS.relu, ClassFlag.RELU = True, True, True, True
    CONFIG.relu, Closure.switches_of_closure["relu"] = True, True
