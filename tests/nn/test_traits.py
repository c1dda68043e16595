"""A new activation added through CONTRIBUTING.md's recipe — one op, one module, one
declaration — is usable by name in the CLI config, saved and rebuilt by checkpoints and
exported to ONNX; the declaration is undone after each test."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.autograd import Op
from ffnn.nn import traits


# ----- the recipe: one op, one module, one declaration -------------------------------------
class SquaredReLUOp(Op):
    """y = max(x, 0)²;  dL/dx = dL/dy · 2 max(x, 0)."""

    def forward(self, x):
        self.positive = np.maximum(x, 0)
        return self.positive * self.positive

    def backward(self, grad):
        return (grad * 2 * self.positive,)


class SquaredReLU(nn.Module):
    """y = max(x, 0)² (Primer's activation)."""

    def forward(self, input):
        return SquaredReLUOp.apply(input)


def _onnx_squared_relu(g, m, x, path):
    relu = g.node("Relu", [x], path)
    return g.node("Mul", [relu, relu], path)


@pytest.fixture
def squared_relu():
    traits.declare(SquaredReLU, kind="activation", name="relu_squared", config=(),
                   onnx=_onnx_squared_relu, elementwise=True, op=SquaredReLUOp,
                   formula=("ReLU²(z) = max(z, 0)²", "ReLU²'(z) = 2 max(z, 0)"))
    yield SquaredReLU
    traits.undeclare(SquaredReLU)


def _mlp(seed: int = 0) -> nn.Sequential:
    ffnn.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), SquaredReLU(), nn.Linear(8, 3))


# ----- the op itself ------------------------------------------------------------------------
def test_the_new_op_matches_finite_differences_and_torch():
    import torch

    x = np.random.default_rng(0).standard_normal((5, 4))
    x[np.abs(x) < 0.05] = 0.3  # keep away from the kink at 0
    assert ffnn.gradcheck(lambda t: SquaredReLUOp.apply(t), [ffnn.tensor(x, requires_grad=True)])
    ours = ffnn.tensor(x, requires_grad=True)
    SquaredReLU()(ours).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    (torch.relu(theirs) ** 2).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


# ----- the consumers --------------------------------------------------------------------------
def test_cli_config_builds_the_new_activation(squared_relu):
    from ffnn.cli import config
    from ffnn.cli._build import build_mlp

    cfg = config.from_dict(config.Config, {"model": {"activation": "relu_squared",
                                                     "hidden_sizes": [5]}})
    model = build_mlp(cfg.model, 4, 3)
    assert [type(m) for m in model] == [nn.Linear, SquaredReLU, nn.Linear]
    assert "relu_squared" in config.example()


def test_ffnn_train_runs_with_the_new_activation(squared_relu, tmp_path):
    from ffnn.cli import main

    out = tmp_path / "run"
    code = main(["train", "--set", "data.name=iris", "--set", "model.activation=relu_squared",
                 "--set", f"out={out.as_posix()}", "--set", "model.hidden_sizes=[6]",
                 "--epochs", "2"])
    assert code == 0
    model = ffnn.load(out / "last.safetensors").model
    assert [type(m) for m in model] == [nn.Linear, SquaredReLU, nn.Linear]


def test_without_the_declaration_the_name_is_unknown():
    from ffnn.cli import config

    with pytest.raises(config.ConfigError, match="Received: model.activation='relu_squared'"):
        config.from_dict(config.Config, {"model": {"activation": "relu_squared"}})
    assert traits.of(SquaredReLU) is None


def test_checkpoint_round_trip(squared_relu, tmp_path):
    model = _mlp()
    x = ffnn.randn(6, 4)
    ffnn.save(tmp_path / "m.safetensors", model)
    rebuilt = ffnn.load(tmp_path / "m.safetensors").model
    assert [type(m) for m in rebuilt] == [nn.Linear, SquaredReLU, nn.Linear]
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())


def test_onnx_export_matches_ffnn(squared_relu, tmp_path):
    import onnxruntime as ort

    from ffnn.interop import onnx as ffnn_onnx

    model = _mlp(1)
    x = np.random.default_rng(2).standard_normal((7, 4)).astype(np.float32)
    path = ffnn_onnx.export(model, tmp_path / "m.onnx", x)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x})[0]
    np.testing.assert_allclose(got, model(ffnn.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_explain_and_row_wise_inference_read_the_declaration(squared_relu):
    from ffnn import explain

    e = explain.compute(explain.ExplainConfig(activation="relu_squared"))
    for _formula, grad, fd in e.gradients.values():
        np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)
    model = _mlp()
    model.inference_block_rows = 4
    x = ffnn.randn(20, 4)
    assert model._row_wise()
    with ffnn.no_grad():
        blocked = model(x).numpy()
    np.testing.assert_allclose(blocked, nn.Sequential(*model)(x).detach().numpy(), rtol=1e-6,
                               atol=1e-7)  # float32 sums of blocks of 4 rows, of 20


def test_net2net_reads_the_roles(squared_relu):
    from ffnn.finetune import deepen, widen

    model = _mlp()
    x = ffnn.randn(5, 4)
    before = model(x).numpy()
    widen(model, 0, 12)  # element-wise: widening passes through
    np.testing.assert_allclose(model(x).numpy(), before, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="must be a ReLU"):  # (x²)² ≠ x²: not idempotent
        deepen(model, 1)


# ----- lookups go by class ----------------------------------------------------------------
def test_a_subclass_keeps_its_parents_traits_unless_it_overrides_forward():
    class QuietReLU(nn.ReLU):
        pass

    class DoubledReLU(nn.ReLU):
        def forward(self, input):
            return super().forward(input) * 2

    assert traits.of(QuietReLU()) is traits.of(nn.ReLU())
    assert traits.of(DoubledReLU()) is None
    assert traits.declared(QuietReLU) is None  # the spec is not inherited


def test_declare_rejects_a_taken_name_and_an_unknown_trait():
    class Other(nn.Module):
        def forward(self, input):
            return input

    with pytest.raises(ValueError, match="the activation name 'relu' is already ReLU's"):
        traits.declare(Other, kind="activation", name="relu")
    with pytest.raises(TypeError, match=r"unknown trait\(s\) \['colour'\]"):
        traits.declare(Other, colour="red")
    assert traits.declared(Other) is None


def test_loss_task_and_probabilities_follow_the_class():
    from ffnn.train._losses import loss_task, probabilities

    class Smoothed(nn.CrossEntropyLoss):
        pass

    logits = np.array([[1.0, 2.0, 3.0], [800.0, 0.0, -800.0]])
    assert loss_task(Smoothed()) == "multiclass" and loss_task(nn.MSELoss()) is None
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(probabilities(Smoothed(), logits), expected, rtol=1e-14)
    z = np.array([-800.0, -1.0, 0.0, 2.0, 800.0])
    np.testing.assert_allclose(probabilities(nn.BCEWithLogitsLoss(), z),
                               [0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-2.0)), 1.0],
                               rtol=1e-14, atol=0)


# ----- every declared activation: checkpoints and PyTorch -----------------------------------
MORE = [lambda: nn.ELU(0.7), nn.SELU, nn.ReLU6, lambda: nn.Softplus(2.0, 10.0),
        lambda: nn.Hardtanh(-0.5, 0.8), lambda: nn.PReLU(6, 0.1), nn.Mish, nn.Hardswish,
        nn.Hardsigmoid, nn.LogSigmoid, nn.Softsign, nn.Tanhshrink, lambda: nn.CELU(0.5),
        lambda: nn.Threshold(0.1, -1.0), lambda: nn.Hardshrink(0.3),
        lambda: nn.Softshrink(0.2), lambda: nn.Softmin(dim=1)]


@pytest.mark.parametrize("make", MORE)
def test_declared_activations_round_trip_checkpoints_and_torch(make, tmp_path):
    import torch

    from ffnn.interop.torch import from_torch, to_torch

    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), make(), nn.Linear(6, 2)).double()
    x = np.random.default_rng(1).standard_normal((9, 3))
    expected = model(ffnn.tensor(x)).numpy()
    ffnn.save(tmp_path / "m.safetensors", model)
    rebuilt = ffnn.load(tmp_path / "m.safetensors").model
    assert type(rebuilt[1]) is type(model[1])
    np.testing.assert_array_equal(rebuilt(ffnn.tensor(x)).numpy(), expected)
    theirs = to_torch(model)
    assert type(theirs[1]).__module__.startswith("torch.nn")
    with torch.no_grad():
        np.testing.assert_allclose(theirs(torch.from_numpy(x)).numpy(), expected, rtol=1e-12,
                                   atol=1e-14)
    back = from_torch(theirs)
    assert type(back[1]) is type(model[1])
    np.testing.assert_allclose(back(ffnn.tensor(x)).numpy(), expected, rtol=1e-12, atol=1e-14)


def test_the_graph_free_step_runs_the_declared_op(squared_relu):
    from ffnn.compiler.chain import ChainStep
    from tests._fast_steps import assert_grads_equal, chain_against_graph

    model, loss = _mlp().double(), nn.MSELoss()
    rng = np.random.default_rng(3)
    x, target = rng.standard_normal((10, 4)), rng.standard_normal((10, 3))
    step = ChainStep.build(model, loss)
    assert step is not None and step.layers[1][0] is SquaredReLUOp
    _, value, fast, expected = chain_against_graph(step, model, loss, x, target)
    assert float(value) == expected.item()
    assert_grads_equal(fast, model)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimators_take_every_declared_activation_name(monkeypatch):
    from sklearn.datasets import make_classification

    from ffnn.compiler.chain import ChainStep
    from ffnn.sklearn import FFNNClassifier
    from tests._fast_steps import without_fused_step

    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    params = dict(activation="leaky_relu", random_state=0, max_iter=5, batch_size=32)
    without_fused_step(monkeypatch)  # the bit-exact chain step (the fused one: test_fused_fit)
    fast = FFNNClassifier(**params).fit(X, y)
    monkeypatch.setattr(ChainStep, "build", classmethod(lambda *args: None))
    graph = FFNNClassifier(**params).fit(X, y)
    assert isinstance(fast.model_[1], nn.LeakyReLU)
    for a, b in zip(fast.coefs_ + fast.intercepts_, graph.coefs_ + graph.intercepts_):
        np.testing.assert_array_equal(a, b)
