"""A Module subclass whose forward only applies calls to its input (ffnn.nn.forward_pipeline):
its leading chain layers run as one node of the graph, computing bit for bit what a
``Sequential`` of the same layers computes, and to rounding what the forward as written
computes (the oracle: ``model.forward(x)``, each layer its own node), without gradients
too; every other forward, a hook, a replaced ``forward`` and a missing attribute run as
written."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
import ffnn.nn.functional as F
from ffnn import accel, nn
from ffnn.nn import chain_call, forward_pipeline
from tests._fast_steps import eager_step


class Tutorial(nn.Module):
    """The PyTorch tutorials' form: layers as attributes, activations as functions."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(6, 8), nn.Linear(8, 8), nn.Linear(8, 3)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        """A docstring, a renamed value, functions with constants, a library function last."""
        h = F.relu(self.fc1(x))
        h = self.drop(F.leaky_relu(self.fc2(h), 0.2))
        return F.log_softmax(self.fc3(h), dim=1)


class Looped(nn.Module):
    """The bench's module form: a loop over a ModuleList."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(5, 16), nn.LayerNorm(16), nn.Tanh(),
                                     nn.Linear(16, 16), nn.SiLU(), nn.Linear(16, 2)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Nested(nn.Module):
    """Calls nested in one expression, an indexed layer, a top-level function."""

    def __init__(self):
        super().__init__()
        self.body = nn.ModuleList([nn.Linear(4, 6), nn.BatchNorm1d(6)])
        self.head = nn.Linear(6, 1)

    def forward(self, x):
        return self.head(ffnn.tanh(self.body[1](self.body[0](x))))


class Repeated(nn.Module):
    """One activation module after every layer, one function twice."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(5, 7), nn.Linear(7, 7), nn.Linear(7, 2)
        self.act = nn.SiLU()

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.act(self.fc2(x))
        return F.relu(self.act(self.fc3(x)))


class FlattenThenBody(nn.Module):
    """The PyTorch quickstart's form: one layer, then a Sequential (not a chain layer)."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.stack = nn.Sequential(nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))

    def forward(self, x):
        return self.stack(self.flatten(x))


class Viewed(nn.Module):
    """The MNIST tutorials' form: the input viewed as rows, a method as the activation."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, 8), nn.Linear(8, 3)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        x = self.fc1(x).relu()
        return F.log_softmax(self.fc2(x), dim=1)


class Flattened(Viewed):
    """``torch.flatten(x, 1)`` first, a method in a call."""

    def forward(self, x):
        x = ffnn.flatten(x, 1)
        return self.fc2(self.fc1(x).tanh())


class Reshaped(Viewed):
    """``x.shape[0]`` in a reshape, a method last."""

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x.reshape(x.shape[0], -1)))).sigmoid()


class FunctionalDropout(nn.Module):
    """``F.dropout`` with the module's mode, and without (always on, as torch's)."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(6, 8), nn.Linear(8, 3)

    def forward(self, x):
        x = F.dropout(F.relu(self.fc1(x)), 0.25, training=self.training)
        return F.dropout(self.fc2(x), p=0.1)


def with_closure(activation):
    """A class made in a function, its forward calling a name of the closure."""

    class Closed(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(3, 5), nn.Linear(5, 2)

        def forward(self, x):
            return self.fc2(activation(self.fc1(x)))

    return Closed


class OtherFunctions(nn.Module):
    """torch's other element-wise functions, with their arguments as the modules take them."""

    def __init__(self):
        super().__init__()
        self.fc = nn.ModuleList([nn.Linear(5, 6)] + [nn.Linear(6, 6) for _ in range(6)]
                                + [nn.Linear(6, 2)])

    def forward(self, x):
        x = F.elu(self.fc[0](x), 0.5)
        x = F.celu(self.fc[1](x), alpha=0.7)
        x = F.softsign(self.fc[2](x))
        x = F.hardtanh(self.fc[3](x), -0.5, 0.6)
        x = F.threshold(self.fc[4](x), 0.1, -1.0)
        x = F.softshrink(self.fc[5](x), 0.05)
        x = F.selu(self.fc[6](x))
        return F.logsigmoid(self.fc[7](x))


PIPELINES = {Tutorial: (9, 6), Looped: (7, 5), Nested: (8, 4), FlattenThenBody: (5, 3, 4),
             Viewed: (6, 4, 4), Flattened: (5, 2, 8), Reshaped: (4, 16), Repeated: (6, 5),
             FunctionalDropout: (9, 6), OtherFunctions: (7, 5)}


def _as_sequential(model, x):
    """The model's calls with its layers as the ``Sequential`` a program could have written
    instead (the Tutorial's log-softmax after it)."""
    if isinstance(model, Tutorial):
        body = nn.Sequential(model.fc1, nn.ReLU(), model.fc2, nn.LeakyReLU(0.2), model.drop,
                             model.fc3)
        return F.log_softmax(body(x), dim=1)
    if isinstance(model, Looped):
        return nn.Sequential(*model.layers)(x)
    if isinstance(model, OtherFunctions):
        fc = model.fc
        return nn.Sequential(fc[0], nn.ELU(0.5), fc[1], nn.CELU(0.7), fc[2], nn.Softsign(),
                             fc[3], nn.Hardtanh(-0.5, 0.6), fc[4], nn.Threshold(0.1, -1.0),
                             fc[5], nn.Softshrink(0.05), fc[6], nn.SELU(), fc[7],
                             nn.LogSigmoid())(x)
    if isinstance(model, FlattenThenBody):
        return model.stack(model.flatten(x))
    if type(model) is Viewed:
        return F.log_softmax(nn.Sequential(nn.Flatten(), model.fc1, nn.ReLU(), model.fc2)(x),
                             dim=1)
    if isinstance(model, Flattened):
        return nn.Sequential(nn.Flatten(), model.fc1, nn.Tanh(), model.fc2)(x)
    if isinstance(model, FunctionalDropout):
        first = nn.Dropout(0.25)
        first.training = model.training
        return nn.Sequential(model.fc1, nn.ReLU(), first, model.fc2, nn.Dropout(0.1))(x)
    if isinstance(model, Repeated):
        return nn.Sequential(model.fc1, nn.ReLU(), model.fc2, model.act, model.fc3, model.act,
                             nn.ReLU())(x)
    if isinstance(model, Reshaped):
        return nn.Sequential(nn.Flatten(), model.fc1, nn.GELU(), model.fc2, nn.Sigmoid())(x)
    return nn.Sequential(model.body[0], model.body[1], nn.Tanh(), model.head)(x)


def _train(model_class, shape, dtype, call, steps=3):
    """(outputs, then the parameters and buffers after ``steps`` SGD steps) of a fresh
    ``model_class()`` run through ``call(model, x)``."""
    ffnn.manual_seed(0)
    model = model_class()
    model = model.double() if dtype == np.float64 else model
    opt = ffnn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(1)
    found = []
    for _ in range(steps):
        x = ffnn.tensor(rng.standard_normal(shape).astype(dtype))
        opt.zero_grad()
        out = call(model, x)
        (out * out).sum().backward()
        opt.step()
        found.append(out.detach().numpy().copy())
    found += [t.detach().numpy().copy() for t in model.state_dict().values()]
    return found


@pytest.mark.parametrize("model_class", list(PIPELINES))
def test_a_pipeline_is_what_a_sequential_of_its_layers_computes(model_class):
    shape = PIPELINES[model_class]
    for dtype in (np.float32, np.float64):
        piped = _train(model_class, shape, dtype, lambda m, x: m(x))
        sequential = _train(model_class, shape, dtype, _as_sequential)
        for a, b in zip(piped, sequential, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("model_class", list(PIPELINES))
def test_a_pipeline_is_its_forward_as_written_to_rounding(model_class):
    shape = PIPELINES[model_class]
    piped = _train(model_class, shape, np.float64, lambda m, x: m(x))
    written = _train(model_class, shape, np.float64, lambda m, x: m.forward(x))
    for a, b in zip(piped, written, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("model_class", list(PIPELINES))
def test_the_leading_layers_are_one_node(model_class):
    model = model_class()
    out = model(ffnn.randn(*PIPELINES[model_class]))
    node = out._ctx
    if type(model) in (Tutorial, Viewed):  # log_softmax follows the chain
        assert not isinstance(node, chain_call.SequentialChain)
        node = node.input_ctxs[0]
    assert isinstance(node, chain_call.SequentialChain)  # FlattenThenBody: its Sequential's
    assert node.input_ctxs[0] is None  # the chain starts at the input


@pytest.mark.parametrize("activation", [F.gelu, ffnn.sigmoid, F.softplus, ffnn.exp])
def test_a_name_of_the_closure_is_the_one_called(activation):
    model, x = with_closure(activation)(), ffnn.randn(4, 3)
    expected = model.fc2(activation(model.fc1(x)))
    out = model(x)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert isinstance(out._ctx, chain_call.SequentialChain) == (activation is not ffnn.exp)


class _Skip(Tutorial):
    def forward(self, x):
        h = self.fc1(x)
        return self.fc3(F.relu(self.fc2(F.relu(h)) + h))


class _Printing(Tutorial):
    def forward(self, x):
        print(x.shape)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class _Branching(Tutorial):
    def forward(self, x):
        if x.sum() > 0:
            x = F.relu(x)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class _TwoArguments(Tutorial):
    def forward(self, x, scale=1.0):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class _AnArgumentNotConstant(Tutorial):
    def forward(self, x):
        return self.fc3(F.dropout(self.fc2(F.relu(self.fc1(x))), 0.5 * self.scale))


class _LoopCarriesAnotherName(Looped):
    def forward(self, x):
        for layer in self.layers:
            h = layer(x)
        return h


class _LoopVariableAfterTheLoop(Looped):
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return layer(x)


class _LoopOverASlice(Looped):
    def forward(self, x):
        for layer in self.layers[:3]:
            x = layer(x)
        return self.layers[5](x)


class _LoopOverAGlobal(Looped):
    def forward(self, x):
        for layer in LAYER_NAMES:
            x = getattr(self, layer)(x)
        return x


LAYER_NAMES = ("fc1", "fc2")


class _LocalCallee(Tutorial):
    def forward(self, x):
        fc1 = self.fc1
        return self.fc3(fc1(x))


class _OneCall(Tutorial):
    def forward(self, x):
        return self.fc1(x)


@pytest.mark.parametrize("model_class", [
    _Skip, _Printing, _Branching, _TwoArguments, _AnArgumentNotConstant,
    _LoopCarriesAnotherName, _LoopVariableAfterTheLoop, _LoopOverASlice, _LoopOverAGlobal,
    _LocalCallee, _OneCall])
def test_other_forwards_are_not_read(model_class):
    assert forward_pipeline.plan_of(model_class) is None


def test_a_library_layers_forward_is_not_read():
    assert forward_pipeline.plan_of(nn.Tanh) is None  # ``return ops.tanh(input)``
    assert forward_pipeline.plan_of(nn.Sequential) is None


@pytest.mark.parametrize("model_class", list(PIPELINES))
def test_pipelines_are_read(model_class):
    assert forward_pipeline.plan_of(model_class) is not None


def test_a_hooked_layer_runs_its_own_call():
    model, seen, x = Looped(), [], ffnn.randn(4, 5)
    model.layers[3].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    out = model(x)
    assert seen == [(4, 16)]
    assert not isinstance(out._ctx, chain_call.SequentialChain)
    np.testing.assert_allclose(out.detach().numpy(), model.forward(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_a_forward_replaced_on_the_class_is_read_again():
    class Net(Tutorial):
        pass

    model, x = Net(), ffnn.randn(3, 6)
    model(x)
    Net.forward = lambda self, x: self.fc3(self.fc1(x) * 0 + 1)[:, :1]  # not a pipeline
    assert forward_pipeline.plan_of(Net) is None
    np.testing.assert_array_equal(model(x).detach().numpy(),
                                  model.fc3(ffnn.ones(3, 8)).detach().numpy()[:, :1])


def test_names_are_looked_up_at_each_call(monkeypatch):
    model, x = Tutorial(), ffnn.randn(3, 6)
    model.eval()
    monkeypatch.setattr(F, "relu", F.sigmoid)  # the forward's ``F.relu`` now finds sigmoid
    expected = F.log_softmax(model.fc3(model.drop(F.leaky_relu(model.fc2(
        ffnn.sigmoid(model.fc1(x))), 0.2))), dim=1)
    np.testing.assert_allclose(model(x).detach().numpy(), expected.detach().numpy(),
                               rtol=1e-6)
    model.fc2 = nn.Linear(8, 8)  # a new layer: a new chain
    np.testing.assert_allclose(model(x).detach().numpy(), model.forward(x).detach().numpy(),
                               rtol=1e-6)


def test_without_gradients_the_leading_layers_run_as_one_sequential(monkeypatch):
    """Under ``no_grad`` (an evaluation) the leading layers run as a ``Sequential`` of them
    too, whose forward takes them as one native call where the compiled kernels are on
    (``chain_call.infer``, spied): what the forward as written computes, to rounding; a
    ``forward`` set on the instance runs as written."""
    model, x = Looped(), ffnn.randn(4, 5)
    seen, infer = [], chain_call.infer
    monkeypatch.setattr(chain_call, "infer",
                        lambda *a: seen.append(found := infer(*a)) or found)
    with ffnn.no_grad():
        out = model(x)
        expected = model.forward(x)
    assert out._ctx is None and not out.requires_grad
    assert len(seen) == 1 and (seen[0] is not None) == accel.enabled
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    model.forward = lambda x: x[:, :2]
    np.testing.assert_array_equal(model(x).detach().numpy(), x.numpy()[:, :2])


def test_a_missing_layer_or_a_bad_input_raises_the_forwards_own_error():
    model = Tutorial()
    with pytest.raises(ValueError, match="features"):
        model(ffnn.randn(3, 5))
    del model.fc2
    with pytest.raises(AttributeError, match="fc2"):
        model(ffnn.randn(3, 6))


def test_a_source_file_edited_since_is_not_read(tmp_path, monkeypatch):
    source = """
import ffnn.nn as nn
import ffnn.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(3, 4), nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
"""
    (tmp_path / "edited_net.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    import linecache

    module = importlib.import_module("edited_net")
    (tmp_path / "edited_net.py").write_text(source.replace("F.relu", "F.gelu"))
    linecache.checkcache()
    assert forward_pipeline.plan_of(module.Net) is None  # the file names gelu, the code relu
    model, x = module.Net(), ffnn.randn(2, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(),
                                  model.fc2(F.relu(model.fc1(x))).detach().numpy())


@pytest.mark.parametrize("model_class", list(PIPELINES))
def test_a_compiled_step_replays_a_pipeline_bit_for_bit(model_class):
    """``ffnn.compile`` reads the forward from the ops one eager call applies: the chain
    node of the leading layers among them; its replay is the eager step, bit for bit."""
    shape, rng = PIPELINES[model_class], np.random.default_rng(3)
    regression = model_class is Nested  # one output
    batches = [(ffnn.tensor(rng.standard_normal(shape).astype(np.float32)),
                ffnn.tensor(rng.standard_normal((shape[0], 1)).astype(np.float32))
                if regression else ffnn.tensor(rng.integers(0, 2, shape[0])))
               for _ in range(4)]
    found = []
    for compiled in (False, True):
        ffnn.manual_seed(0)
        model = model_class()
        loss_fn = nn.MSELoss() if regression else nn.NLLLoss() if model_class in (
            Tutorial, Viewed) else nn.CrossEntropyLoss()
        opt = ffnn.optim.Adam(model.parameters(), lr=0.01)
        step = ffnn.compile(model, loss_fn, opt) if compiled else None
        losses = [step(x, y) if step else eager_step(model, loss_fn, opt, x, y)
                  for x, y in batches]
        found.append((losses, [p.detach().numpy().copy() for p in model.parameters()]))
        if compiled:
            assert step.compiled and step.reason is None
    assert found[0][0] == found[1][0]
    for a, b in zip(found[0][1], found[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_sequential_called_runs_its_layers_in_the_chain_as_they_are_now():
    model, x = FlattenThenBody(), ffnn.randn(5, 3, 4)
    out = model(x)
    assert isinstance(out._ctx, chain_call.SequentialChain)
    assert [type(m).__name__ for m in forward_pipeline._sequentials[model][2]] == [
        "Flatten", "Linear", "ReLU", "Linear"]
    model.stack.append(nn.Tanh())  # a layer more in the Sequential: read again
    np.testing.assert_allclose(model(x).detach().numpy(),
                               ffnn.tanh(model.stack[:3](x.flatten(1))).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert len(forward_pipeline._sequentials[model][2]) == 5
    model.stack.register_forward_hook(lambda module, args, out: out * 0)
    np.testing.assert_array_equal(model(x).detach().numpy(), np.zeros((5, 3), np.float32))


class ViewedAsRows(Viewed):
    """The older MNIST tutorials' view: ``x.view(-1, 4 * 4)``."""

    def forward(self, x):
        x = x.view(-1, 4 * 4)
        return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)


def test_a_view_to_the_inputs_rows_is_a_flatten():
    model, x = ViewedAsRows(), ffnn.randn(6, 4, 4)
    out = model(x)
    assert isinstance(out._ctx.input_ctxs[0], chain_call.SequentialChain)
    np.testing.assert_allclose(out.detach().numpy(), model.forward(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    other = ffnn.randn(6, 32)  # 32 values a row: x.view(-1, 16) makes 12 rows of 16
    out = model(other)
    assert out.shape == (12, 3)
    np.testing.assert_allclose(out.detach().numpy(), model.forward(other).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert isinstance(model(x)._ctx.input_ctxs[0], chain_call.SequentialChain)


def test_a_view_to_other_rows_runs_as_written():
    class Regrouped(Viewed):
        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x.view(-1, 16))))

    assert forward_pipeline.plan_of(Regrouped) is not None
    model, x = Regrouped(), ffnn.randn(3, 32)
    out = model(x)
    assert out.shape == (6, 3)  # x.view(-1, 16) is no Flatten
    np.testing.assert_allclose(out.detach().numpy(), model.forward(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_functional_dropout_follows_the_modules_mode():
    model, x = FunctionalDropout(), ffnn.randn(50, 6)
    found = []
    for training in (True, False):
        model.train(training)
        for call in (model, model.forward):
            ffnn.manual_seed(7)
            found.append(call(x).detach().numpy())
        assert isinstance(model(x)._ctx, chain_call.SequentialChain)
    for piped, written in (found[:2], found[2:]):
        np.testing.assert_allclose(piped, written, rtol=1e-5, atol=1e-6)
    assert not np.allclose(found[0], found[2])  # the first dropout is off in eval mode
