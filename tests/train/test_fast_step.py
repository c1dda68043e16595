"""The graph-free step (ffnn.compiler.chain.ChainStep) gives what the graph gives, bit for
bit: gradients of one batch, and parameters and losses over a few Trainer epochs; and every
network or loss it does not support goes through the graph (it is never asked to run)."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn, optim
from ffnn.compiler.chain import ChainStep
from ffnn.data import TensorDataset
from ffnn.train import Callback, Trainer
from tests._fast_steps import assert_grads_equal, chain_against_graph, count_fast_steps

ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid, nn.SiLU, nn.GELU,
               lambda: nn.GELU(approximate="tanh"), lambda: nn.LeakyReLU(0.1), nn.Identity]


@pytest.fixture(params=["numpy"] + (["compiled"] if accel.available else []))
def kernels(request, monkeypatch):
    """Both sides with the compiled kernels off (the NumPy ops) and, with numba, on."""
    monkeypatch.setattr(accel, "enabled", request.param == "compiled")
    return request.param


def _chain(activation, dtype, bias=True, outputs=3):
    ffnn.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8, bias=bias, dtype=dtype), activation(),
                         nn.Linear(8, 6, dtype=dtype), activation(),
                         nn.Linear(6, outputs, bias=bias, dtype=dtype))


def _data(dtype, task, n=40):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 5)).astype(dtype)
    y = rng.integers(0, 3, n) if task == "classify" else rng.normal(size=(n, 2)).astype(dtype)
    return X, y


def _train(model, loss, X, y, fast: bool, epochs=3, optimizer=optim.Adam, **options):
    trainer = Trainer(model, loss, optimizer(model.parameters(), lr=0.01), seed=3,
                      fast_step=fast, **options)
    history = trainer.fit((X, y), epochs=epochs, batch_size=16, verbose=0)
    return [p.numpy().copy() for p in model.parameters()], history.history["loss"]


def _assert_same_training(make_model, loss, X, y, monkeypatch, expect_fast=True, **options):
    calls = count_fast_steps(monkeypatch)
    fast = _train(make_model(), loss, X, y, True, **options)
    assert bool(calls) == expect_fast
    taken = len(calls)
    graph = _train(make_model(), loss, X, y, False, **options)
    assert len(calls) == taken  # fast_step=False: the graph only
    for a, b in zip(fast[0], graph[0]):
        assert np.array_equal(a, b)
    assert fast[1] == graph[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_one_batch_gradients_equal_the_graph(activation, dtype, kernels):
    X, y = _data(dtype, "classify")
    for bias in (True, False):
        model = _chain(activation, dtype, bias)
        loss = nn.CrossEntropyLoss()
        step = ChainStep.build(model, loss)
        assert step is not None and step.takes(X) and step.intact()
        out, value, fast, graph_loss = chain_against_graph(step, model, loss, X, y)
        assert np.array_equal(out, model(ffnn.tensor(X)).numpy())
        assert value.dtype == graph_loss.numpy().dtype and value == graph_loss.item()
        assert_grads_equal(fast, model)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_trainer_epochs_equal_the_graph(activation, dtype, kernels, monkeypatch):
    X, y = _data(dtype, "classify")
    _assert_same_training(lambda: _chain(activation, dtype), nn.CrossEntropyLoss(), X, y,
                          monkeypatch, metrics=["accuracy"])
    X, Y = _data(dtype, "regress")
    _assert_same_training(lambda: _chain(activation, dtype, outputs=2), nn.MSELoss(), X, Y,
                          monkeypatch, optimizer=optim.SGD)


def test_gradients_accumulate_as_the_graph_does():
    """A .grad that is kept (zero_grad(set_to_none=False), or none at all) is added to."""
    X, y = _data(np.float64, "classify")
    model, loss = _chain(nn.Tanh, np.float64), nn.CrossEntropyLoss()
    step = ChainStep.build(model, loss)
    for p in model.parameters():
        p.grad = ffnn.ones_like(p, dtype=ffnn.float64) * 0.25
    out, done = step.forward(X)
    step.backward(out, done, y)
    fast = [p.grad.numpy().copy() for p in model.parameters()]
    for p in model.parameters():
        p.grad = ffnn.ones_like(p, dtype=ffnn.float64) * 0.25
    loss(model(ffnn.tensor(X)), ffnn.tensor(y)).backward()
    for a, p in zip(fast, model.parameters()):
        assert np.array_equal(a, p.grad.numpy())


class Scaled(nn.Module):
    def forward(self, x):
        return x * 2.0


class MyLoss(nn.CrossEntropyLoss):
    task = "multiclass"

    def forward(self, input, target):
        return super().forward(input, target) * 2.0


def _frozen():
    model = _chain(nn.ReLU, np.float32)
    model[0].weight.requires_grad_(False)
    return model


def _hooked_module():
    model = _chain(nn.ReLU, np.float32)
    model[1].register_forward_hook(lambda module, args, out: out * 0.5)
    return model


def _hooked_grad():
    model = _chain(nn.ReLU, np.float32)
    model[2].weight.register_hook(lambda grad: grad * 3.0)
    return model


def _shared():
    ffnn.manual_seed(0)
    inner = nn.Linear(4, 4)
    return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), inner, nn.Tanh(), inner, nn.Linear(4, 3))


FALLBACKS = {
    "dropout_inplace": lambda: nn.Sequential(nn.Linear(5, 8), nn.ReLU(),
                                             nn.Dropout(0.3, inplace=True), nn.Linear(8, 3)),
    "softmax": lambda: nn.Sequential(nn.Linear(5, 8), nn.Softmax(dim=0), nn.ReLU(),
                                        nn.Linear(8, 3)),
    "custom_module": lambda: nn.Sequential(nn.Linear(5, 8), Scaled(), nn.Linear(8, 3)),
    "leaky_relu_inplace": lambda: nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8),
                                                nn.ReLU(), nn.LeakyReLU(inplace=True),
                                                nn.Linear(8, 3)),
    "inplace_relu": lambda: nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.ReLU(inplace=True),
                                          nn.Linear(8, 3)),
    "frozen_layer": _frozen,
    "forward_hook": _hooked_module,
    "gradient_hook": _hooked_grad,
    "shared_layer": _shared,
    "activation_first": lambda: nn.Sequential(nn.Tanh(), nn.Linear(5, 3)),
}


@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_unsupported_networks_use_the_graph(case, monkeypatch):
    X, y = _data(np.float32, "classify")

    def make():
        ffnn.manual_seed(0)
        return FALLBACKS[case]()

    _assert_same_training(make, nn.CrossEntropyLoss(), X, y, monkeypatch, expect_fast=False)
    if case == "frozen_layer":
        assert np.array_equal(_train(make(), nn.CrossEntropyLoss(), X, y, True)[0][0],
                              make()[0].weight.numpy())


@pytest.mark.parametrize("loss", [MyLoss(), nn.CrossEntropyLoss(label_smoothing=0.1),
                                  nn.CrossEntropyLoss(reduction="sum"),
                                  nn.PoissonNLLLoss(), nn.MSELoss(reduction="sum")],
                         ids=lambda loss: type(loss).__name__)
def test_unsupported_losses_and_options_use_the_graph(loss, monkeypatch):
    task = "classify" if isinstance(loss, (nn.CrossEntropyLoss, nn.NLLLoss)) else "regress"
    X, y = _data(np.float32, task)
    outputs = 3 if task == "classify" else 2
    _assert_same_training(lambda: _chain(nn.Tanh, np.float32, outputs=outputs), loss, X, y,
                          monkeypatch, expect_fast=False)


def test_class_weighted_cross_entropy_trains_fast_as_the_graph(monkeypatch):
    """Class weights (an imbalanced problem's loss) take the fast step, bit for bit."""
    X, y = _data(np.float32, "classify")
    _assert_same_training(lambda: _chain(nn.Tanh, np.float32, outputs=3),
                          nn.CrossEntropyLoss(weight=ffnn.tensor([1.0, 2.0, 0.5])), X, y,
                          monkeypatch)


def test_a_log_softmax_head_with_nll_loss_trains_as_the_graph(monkeypatch):
    X, y = _data(np.float32, "classify")
    _assert_same_training(lambda: nn.Sequential(_chain(nn.ReLU, np.float32),
                                                nn.LogSoftmax(dim=1)),
                          nn.NLLLoss(), X, y, monkeypatch, metrics=["accuracy"])


@pytest.mark.parametrize("loss", [nn.L1Loss(), nn.HuberLoss(delta=0.5), nn.SmoothL1Loss(),
                                  nn.BCELoss()], ids=lambda loss: type(loss).__name__)
def test_regression_losses_and_bce_train_as_the_graph(loss, monkeypatch):
    """The Trainer's l1, huber, smooth_l1 and bce losses take the fast step, bit for bit."""
    X, y = _data(np.float32, "regress")
    if isinstance(loss, nn.BCELoss):
        y = (y > 0).astype(np.float32)

    def make():
        model = _chain(nn.Tanh, np.float32, outputs=2)
        return nn.Sequential(model, nn.Sigmoid()) if isinstance(loss, nn.BCELoss) else model

    _assert_same_training(make, loss, X, y, monkeypatch)


def test_l1_penalty_and_sample_weights_use_the_graph(monkeypatch):
    X, y = _data(np.float32, "classify")
    _assert_same_training(lambda: _chain(nn.Tanh, np.float32), nn.CrossEntropyLoss(), X, y,
                          monkeypatch, expect_fast=False, l1=1e-3)


class _MidEpoch(Callback):
    """Between two batches of the first epoch: a forward hook, or a frozen weight."""

    def __init__(self, change: str):
        self.change = change

    def on_train_batch_begin(self, batch, logs=None):
        if self.trainer.epoch == 0 and batch == 1:
            if self.change == "hook":
                self.model[1].register_forward_hook(lambda module, args, out: out * 0.5)
            else:
                self.model[0].weight.requires_grad_(False)


@pytest.mark.parametrize("change", ["hook", "freeze"])
def test_a_change_between_batches_is_seen_at_the_next_batch(change, monkeypatch):
    """The chain's hooks and requires_grad are checked before each batch when a callback
    runs between batches: a hook or a freeze from the second batch on trains as the graph."""
    X, y = _data(np.float32, "classify")
    calls = count_fast_steps(monkeypatch)

    def run(fast):
        ffnn.manual_seed(0)
        return _train(_chain(nn.ReLU, np.float32), nn.CrossEntropyLoss(), X, y, fast,
                      callbacks=[_MidEpoch(change)])

    fast = run(True)
    assert len(calls) == 1  # the first batch only: the change holds for every later one
    graph = run(False)
    for a, b in zip(fast[0], graph[0]):
        assert np.array_equal(a, b)
    assert fast[1] == graph[1]


def test_a_bad_label_raises_the_graphs_error():
    X, y = _data(np.float32, "classify")
    model = _chain(nn.ReLU, np.float32)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1),
                      seed=0)
    data = TensorDataset(X, np.where(y == 2, 7, y))  # past the Trainer's own check of arrays
    with pytest.raises(ValueError, match=r"class labels must be in \[0, 2\]"):
        trainer.fit(data, epochs=1, verbose=0)


def test_a_batch_in_another_dtype_uses_the_graph():
    X, y = _data(np.float64, "classify")
    model = _chain(nn.ReLU, np.float32)
    step = ChainStep.build(model, nn.CrossEntropyLoss())
    usable = step is not None and step.takes(X.astype(np.float32)) and step.intact()
    assert usable and not (step.takes(X) and step.intact())
    with ffnn.no_grad():
        assert not (step.takes(X.astype(np.float32)) and step.intact())


def _graph_gradients(model, loss, X, y) -> tuple:
    model.zero_grad()
    value = loss(model(ffnn.tensor(X)), ffnn.tensor(y))
    value.backward()
    return value.item(), [None if p.grad is None else p.grad.numpy().copy()
                          for p in model.parameters()]


@pytest.mark.parametrize("loss, task", [
    (nn.MSELoss(reduction="sum"), "regress"), (nn.CrossEntropyLoss(reduction="sum"), "classify"),
    (nn.BCEWithLogitsLoss(), "labels"), (nn.BCEWithLogitsLoss(reduction="sum"), "labels"),
    (nn.CrossEntropyLoss(label_smoothing=0.1), "classify")],
    ids=["mse_sum", "cross_entropy_sum", "bce_mean", "bce_sum", "label_smoothing"])
def test_capture_takes_frozen_layers_and_summed_losses_as_the_graph_does(loss, task, kernels):
    """What ffnn.compile replays beyond the Trainer's case: a frozen first layer (no gradient
    for it, none through the input), summed, smoothed or BCE losses, bit for bit the graph."""
    X, y = _data(np.float64, "regress" if task == "labels" else task)
    if task == "labels":
        y = (y > 0).astype(np.float64)
    model = _chain(nn.Tanh, np.float64, outputs=3 if task == "classify" else 2)
    model[0].weight.requires_grad_(False)
    step, reason = ChainStep.capture(model, loss)
    assert reason is None and ChainStep.build(model, loss) is None  # the Trainer's graph
    model.zero_grad()
    out, done = step.forward(X)
    value = step.backward(out, done, y)
    fast = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    graph_value, graph = _graph_gradients(model, loss, X, y)
    assert value == graph_value and fast[0] is None and graph[0] is None
    for a, b in zip(fast[1:], graph[1:]):
        assert np.array_equal(a, b)


def test_capture_flattens_nested_sequentials():
    X, y = _data(np.float32, "classify")
    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Linear(5, 6), nn.ReLU()),
                          nn.Sequential(nn.Linear(6, 3)))
    step = ChainStep.build(model, nn.CrossEntropyLoss())
    assert [op.__name__ for op, _, _ in step.layers] == ["Linear", "ReLU", "Linear"]
    out, done = step.forward(X)
    value = step.backward(out, done, y)
    fast = [p.grad.numpy().copy() for p in model.parameters()]
    graph_value, graph = _graph_gradients(model, nn.CrossEntropyLoss(), X, y)
    assert value == graph_value
    for a, b in zip(fast, graph):
        assert np.array_equal(a, b)


def test_capture_takes_one_activation_module_used_twice():
    """A parameter-free layer twice in the chain is twice the same function (a Linear
    twice shares weights: ``test_capture_says_why_in_one_line``)."""
    X, y = _data(np.float32, "classify")
    ffnn.manual_seed(0)
    act = nn.Tanh()
    model = nn.Sequential(nn.Linear(5, 6), act, nn.Linear(6, 6), act, nn.Linear(6, 3))
    step = ChainStep.build(model, nn.CrossEntropyLoss())
    assert [op.__name__ for op, _, _ in step.layers] == [
        "Linear", "Tanh", "Linear", "Tanh", "Linear"]
    out, done = step.forward(X)
    value = step.backward(out, done, y)
    fast = [p.grad.numpy().copy() for p in model.parameters()]
    graph_value, graph = _graph_gradients(model, nn.CrossEntropyLoss(), X, y)
    assert value == graph_value
    for a, b in zip(fast, graph):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("case, reason", [
    ("dropout_inplace", "Dropout(inplace=True) is captured only after a Linear or a norm"),
    ("softmax", "Softmax with these options is not captured"),
    ("custom_module", "module Scaled is not supported"),
    ("inplace_relu", "ReLU(inplace=True) is captured only after a Linear or a norm"),
    ("forward_hook", "Tanh has forward hooks"),
    ("gradient_hook", "a parameter has gradient hooks"),
    ("shared_layer", "a layer is used twice (shared weights)"),
    ("activation_first", "the chain does not start with a Linear layer")])
def test_capture_says_why_in_one_line(case, reason):
    model = FALLBACKS[case]() if case != "forward_hook" else _chain(nn.Tanh, np.float32)
    if case == "forward_hook":
        model[1].register_forward_hook(lambda module, args, out: out)
    assert ChainStep.capture(model, nn.CrossEntropyLoss()) == (None, reason)
    assert ChainStep.build(model, nn.CrossEntropyLoss()) is None


def _inplace_after_linear_and_norms():
    ffnn.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(inplace=True), nn.Linear(8, 8),
                         nn.BatchNorm1d(8), nn.LeakyReLU(0.2, inplace=True), nn.Linear(8, 8),
                         nn.LayerNorm(8), nn.ELU(inplace=True), nn.Linear(8, 8),
                         nn.Dropout(0.3, inplace=True), nn.Linear(8, 3))


def test_layers_in_place_after_a_linear_or_a_norm_are_captured(monkeypatch):
    """They overwrite an output no op saved, so out of place they compute the same: the fast
    step trains as the graph does (one node of it, a native chain), bit for bit. (Against
    the per-layer graph, which writes in place, a step agrees to rounding:
    tests/nn/test_chain_native.py; Adam's steps then part at the rounding of tiny gradients.)
    """
    X, y = _data(np.float32, "classify")
    step = ChainStep.build(_inplace_after_linear_and_norms(), nn.CrossEntropyLoss())
    assert [op.__name__ for op, _, _ in step.layers][:5] == ["Linear", "ReLU", "Linear",
                                                           "BatchNorm", "LeakyReLU"]
    calls = count_fast_steps(monkeypatch)
    fast = _train(_inplace_after_linear_and_norms(), nn.CrossEntropyLoss(), X, y, True)
    assert calls
    graph = _train(_inplace_after_linear_and_norms(), nn.CrossEntropyLoss(), X, y, False)
    for a, b in zip(fast[0], graph[0]):
        assert np.array_equal(a, b)
    assert fast[1] == graph[1]


def test_capture_names_an_unsupported_or_hooked_loss():
    model = _chain(nn.Tanh, np.float32)
    assert ChainStep.capture(model, nn.PoissonNLLLoss()) == (
        None, "loss PoissonNLLLoss is not supported")
    loss = nn.MSELoss()
    loss.register_forward_hook(lambda module, args, out: out)
    assert ChainStep.capture(model, loss) == (None, "MSELoss has forward hooks")
