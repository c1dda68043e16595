"""``ffnn.onnx.export`` (op-level, torch's signature): programs' own ``nn.Module`` classes
exported and run by onnxruntime, which must reproduce ffnn's eval forward; one program also
exported by torch (``dynamo=False``) with the same weights, the two files giving the same
numbers."""

from __future__ import annotations

import contextlib
import io
import os
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import ffnn
import ffnn.onnx
from ffnn import accel, nn
from ffnn.interop import onnx as ffnn_onnx
from ffnn.nn import functional as F

BATCH = {"input": {0: "batch"}, "output": {0: "batch"}}


def _export(model, args, **options) -> onnx.ModelProto:
    """Export into a file object (the call returns None), then the checked proto."""
    buffer = io.BytesIO()
    assert ffnn.onnx.export(model, args, buffer, **options) is None
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _run(proto, feeds: dict) -> list:
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


@contextlib.contextmanager
def _reference_kernels():
    """ffnn on its NumPy reference kernels: a program's network runs as a native chain
    compiled for its layers and dtype, seconds of compilation per architecture (the chains
    have tests of their own)."""
    enabled, accel.enabled = accel.enabled, False
    try:
        yield
    finally:
        accel.enabled = enabled


def _eval(model, *inputs) -> list:
    """ffnn's own eval forward: the oracle's other side."""
    model.eval()
    with _reference_kernels(), ffnn.no_grad():
        out = model(*[ffnn.tensor(x) for x in inputs])
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def _rows(n: int, features: int, seed: int = 0, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, features)).astype(dtype)


def _agrees(model, proto, make_inputs, names=("input",), rtol=1e-5, atol=1e-6):
    """onnxruntime equals ffnn's eval forward at two batch sizes (the batch is symbolic)."""
    for batch in (5, 2):
        inputs = make_inputs(batch)
        got = _run(proto, dict(zip(names, inputs)))
        for value, expected in zip(got, _eval(model, *inputs), strict=True):
            assert value.shape == expected.shape
            np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol)


# ----- the programs a tutorial writes ----------------------------------------------------------
class Net(nn.Module):
    """A learner's classifier: F.relu between Linear layers, a softmax head."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 3)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return F.softmax(self.fc3(x), dim=1)


class Residual(nn.Module):
    """x + ff(x) with a layer norm and dropout (a fused Sequential inside), in place (+=)."""

    def __init__(self, width: int = 8):
        super().__init__()
        self.ff = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Dropout(0.3),
                                nn.Linear(2 * width, width))
        self.norm = nn.LayerNorm(width)
        self.drop = nn.Dropout(0.5)
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        h = x + self.ff(x)
        h = self.drop(self.norm(h))
        h += x
        return self.head(F.dropout(h, 0.2, training=self.training))


class BatchNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 6)
        self.bn = nn.BatchNorm1d(6)
        self.out = nn.Linear(6, 1)

    def forward(self, x):
        return ffnn.sigmoid(self.out(F.leaky_relu(self.bn(self.fc(x)), 0.1))).squeeze(1)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 4), nn.Linear(2, 4)
        self.head = nn.Linear(8, 2)

    def forward(self, x, y):
        return self.head(ffnn.tanh(ffnn.cat([self.a(x), self.b(y)], dim=1)))


class EmbeddingMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 4)
        self.mlp = nn.Sequential(nn.Linear(12, 16), nn.SiLU(), nn.Linear(16, 3))

    def forward(self, tokens):
        return F.log_softmax(self.mlp(self.embed(tokens).view(tokens.size(0), -1)), dim=-1)


class Heads(nn.Module):
    """GELU (exact and tanh), SiLU and softmax heads on one trunk; three outputs."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 6)
        self.act = nn.SiLU()
        self.p, self.q = nn.Linear(6, 3), nn.Linear(6, 2)

    def forward(self, x):
        h = self.act(F.gelu(self.trunk(x)))
        return (F.softmax(self.p(h), dim=-1), F.gelu(self.q(h), approximate="tanh"),
                h.mean(dim=1, keepdim=True))


def _trained(model: nn.Module) -> nn.Module:
    """A few training-mode forwards: the batch norms' running statistics move."""
    model.train()
    with _reference_kernels():
        for seed in range(3):
            model(ffnn.tensor(_rows(16, 5, seed) * 3 + 1))
    return model


def test_learner_net_with_functional_relu():
    model = Net()
    proto = _export(model, ffnn.randn(4, 6), input_names=["input"], output_names=["output"],
                    dynamic_axes=BATCH)
    assert [i.name for i in proto.graph.initializer] == [
        "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Relu", "Gemm", "Relu", "Gemm",
                                                     "Softmax"]
    _agrees(model, proto, lambda n: [_rows(n, 6, n)])


def test_residual_layer_norm_dropout_and_in_place_add():
    model = Residual().train()
    proto = _export(model, ffnn.randn(3, 8), input_names=["input"], output_names=["output"],
                    dynamic_axes=BATCH)
    assert model.training and model.ff.training  # the flags are restored
    types = [n.op_type for n in proto.graph.node]
    assert "LayerNormalization" in types and "Dropout" not in types
    assert {"ff.0.weight", "ff.3.weight", "norm.weight"} <= {
        i.name for i in proto.graph.initializer}  # the Sequential recorded layer by layer
    _agrees(model, proto, lambda n: [_rows(n, 8, n)])


def test_batch_norm_in_eval_uses_running_statistics():
    model = _trained(BatchNormNet())
    proto = _export(model, ffnn.randn(4, 5), input_names=["input"], output_names=["output"],
                    dynamic_axes=BATCH)
    assert {"bn.running_mean", "bn.running_var"} <= {i.name for i in proto.graph.initializer}
    assert model.training
    _agrees(model, proto, lambda n: [_rows(n, 5, n) * 2])


def test_two_inputs_concatenated():
    model = TwoInputs()
    proto = _export(model, (ffnn.randn(3, 3), ffnn.randn(3, 2)), input_names=["x", "y"],
                    output_names=["logits"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"},
                                                           "logits": {0: "n"}})
    assert [i.name for i in proto.graph.input] == ["x", "y"]
    _agrees(model, proto, lambda n: [_rows(n, 3, n), _rows(n, 2, n + 7)], names=("x", "y"))


def test_embedding_mlp_on_integer_input():
    model = EmbeddingMLP()
    tokens = ffnn.tensor(np.array([[1, 5, 19], [0, 2, 3]]))
    proto = _export(model, tokens, input_names=["tokens"], dynamic_axes={"tokens": [0]})
    dim = proto.graph.input[0].type.tensor_type.shape.dim
    assert dim[0].dim_param == "tokens_dynamic_axes_1" and dim[1].dim_value == 3
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    _agrees(model, proto, lambda n: [np.random.default_rng(n).integers(0, 20, (n, 3))],
            names=("tokens",))


def test_gelu_silu_softmax_heads_and_default_names():
    model = Heads()
    proto = _export(model, ffnn.randn(2, 4), dynamic_axes={"x": {0: "batch"}})
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1", "output_2"]
    assert [i.name for i in proto.graph.input] == ["x"]  # the forward's parameter name
    _agrees(model, proto, lambda n: [_rows(n, 4, n)], names=("x",))


def test_float64_model():
    model = Net().double()
    proto = _export(model, ffnn.randn(3, 6, dtype=ffnn.float64), input_names=["input"],
                    dynamic_axes=BATCH)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    _agrees(model, proto, lambda n: [_rows(n, 6, n, np.float64)], rtol=1e-12, atol=1e-14)


def test_without_dynamic_axes_the_shapes_are_fixed():
    proto = _export(Net(), ffnn.randn(4, 6))
    shape = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in shape] == [4, 6]


# ----- each op family ------------------------------------------------------------------------
class Apply(nn.Module):
    """A forward that is one function of x (and of the modules given)."""

    def __init__(self, function, **modules):
        super().__init__()
        self.function = function
        for name, module in modules.items():
            setattr(self, name, module)

    def forward(self, x):
        return self.function(self, x)


ACTIVATIONS = {
    "relu": F.relu, "relu6": F.relu6, "elu": lambda x: F.elu(x, 0.7), "selu": F.selu,
    "celu": lambda x: F.celu(x, 0.5), "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu, "mish": F.mish,
    "softplus": lambda x: F.softplus(x, beta=2.0), "sigmoid": ffnn.sigmoid, "tanh": ffnn.tanh,
    "hardtanh": lambda x: F.hardtanh(x, -0.5, 0.8), "hardsigmoid": F.hardsigmoid,
    "hardswish": F.hardswish, "softsign": F.softsign, "logsigmoid": F.logsigmoid,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.3), "glu": F.glu,
    "softmax": lambda x: F.softmax(x, dim=0), "log_softmax": lambda x: F.log_softmax(x, 1),
    "prelu": nn.PReLU(6, init=0.2), "prelu_one": nn.PReLU(), "tanhshrink": F.tanhshrink,
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_each_activation(name):
    act = ACTIVATIONS[name]
    model = Apply(lambda m, x: m.act(x * 3)) if isinstance(act, nn.Module) else \
        Apply(lambda m, x, f=act: f(x * 3))
    if isinstance(act, nn.Module):
        model.act = act
    proto = _export(model, ffnn.randn(3, 6), input_names=["input"], dynamic_axes=BATCH)
    _agrees(model, proto, lambda n: [_rows(n, 6, n)])


def _shapes(m, x):
    """Reshapes, transposes, slices, joins and reductions on x [n, 6]."""
    a = x.view(x.size(0), 2, 3).transpose(1, 2).flatten(1)  # [n, 6]
    b = x.unsqueeze(1).squeeze(1)[:, 1:5].permute(1, 0).t()  # [n, 4]
    c = ffnn.stack([x[:, 0], x[..., -1], x[:, ::2].sum(dim=1)], dim=1)  # [n, 3]
    d = x.reshape(-1, 3, 2).max(dim=1).values.amin(dim=-1, keepdim=True)  # [n, 1]
    e = x[:, None, :2].expand(-1, 3, -1).reshape(x.shape[0], 6)  # [n, 6]
    f = m.prelu(x.view(-1, 2, 3)).flatten(1)  # the slopes on axis 1 of [n, 2, 3]
    return ffnn.cat([a + e, b, c, d, x.var(1, keepdim=True), x[:, [0, 5]], f], dim=1)


def _arithmetic(m, x):
    """Tensor and scalar operands, broadcasting, powers, exp/log/sqrt/abs, clamp, where."""
    y = (x * 2 + 1 - x / 3) ** 2 - (-x) + 0.5 / (x.abs() + 1) + 2 ** x.clamp(-1, 1)
    y = y + (x.abs() + 0.1).sqrt().log() + x.exp().clamp(max=3) + m.scale * x
    y = ffnn.where(x > 0, y, 0.1 * y) + x.masked_fill((x < -0.5) | (x >= 1.5), 0.0)
    y = y + ffnn.where(~(x <= 1) & (x.clamp(-1, 1) != x), 1.0, 0.0)
    return ffnn.maximum(y, x) @ m.mix + x.pow(3).mean(0)


@pytest.mark.parametrize("function", [_shapes, _arithmetic])
def test_shape_and_arithmetic_ops(function):
    model = Apply(function)
    model.scale = nn.Parameter(ffnn.tensor(np.linspace(0.5, 1.5, 6, dtype=np.float32)))
    model.mix = nn.Parameter(ffnn.randn(6, 6))
    model.prelu = nn.PReLU(2)
    model.prelu.weight.data[...] = ffnn.tensor([0.1, -0.7])
    proto = _export(model, ffnn.randn(4, 6), input_names=["input"], dynamic_axes=BATCH)
    _agrees(model, proto, lambda n: [_rows(n, 6, n)], rtol=1e-5, atol=1e-5)


def test_cast_and_integer_arithmetic():
    model = Apply(lambda m, x: (x.long() * 3).float() + x.double().float())
    proto = _export(model, ffnn.randn(3, 6) * 5, input_names=["input"], dynamic_axes=BATCH)
    assert "Cast" in {n.op_type for n in proto.graph.node}
    _agrees(model, proto, lambda n: [_rows(n, 6, n) * 5])


# ----- what cannot be exported is said, not written wrong --------------------------------------
def test_an_op_without_converter_is_named_with_its_module(tmp_path):
    class Block(nn.Module):
        def forward(self, x):
            return x.cumprod(1)

    model = nn.Sequential(nn.Linear(3, 3), Block())
    with pytest.raises(TypeError, match=r"does not support the op Cumprod \(applied in Block "
                                        r"at '1'\)\. Supported ops: Abs, .*Linear.*Where"):
        ffnn.onnx.export(model, ffnn.randn(2, 3), tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []
    with pytest.raises(TypeError, match=r"GetItem with a boolean mask index \(applied in "
                                        r"Apply.forward\)"):
        ffnn.onnx.export(Apply(lambda m, x: x[x > 0]), ffnn.randn(2, 3))


@pytest.mark.parametrize("function,dynamic", [
    (lambda m, x: x * x.max().item(), False),  # a value read back into the graph
    (lambda m, x: x - float(x.numpy().mean()), False),  # a mean taken by NumPy
    (lambda m, x: ffnn.maximum(x, ffnn.zeros(x.shape[0], 3)), True),  # a size read
])
def test_a_value_computed_outside_the_ops_is_refused(function, dynamic):
    axes = BATCH if dynamic else None
    with pytest.raises(RuntimeError, match=r"differ for inputs with other values"):
        ffnn.onnx.export(Apply(function), ffnn.randn(2, 3), input_names=["input"],
                         dynamic_axes=axes)


def test_logsumexp_exports_as_reduce_log_sum_exp():
    model = Apply(lambda m, x: ffnn.logsumexp(x, 1, keepdim=True) + ffnn.logsumexp(x, (0, 1)))
    proto = _export(model, ffnn.randn(2, 3), input_names=["input"], dynamic_axes=BATCH)
    assert "ReduceLogSumExp" in [node.op_type for node in proto.graph.node]
    _agrees(model, proto, lambda n: [_rows(n, 3, n)])


def test_an_index_read_back_is_refused():
    model = Apply(lambda m, tokens: m.embed(tokens) * tokens[0, 0].item(),
                  embed=nn.Embedding(10, 2))
    with pytest.raises(RuntimeError, match=r"nodes of Mul \(applied in Apply.forward\) differ"):
        ffnn.onnx.export(model, ffnn.tensor(np.array([[3, 1], [4, 1]])))


def test_a_tensor_written_in_place_after_use_is_refused():
    def forward(m, x):
        y = x * 2
        y[0] = 1.0
        return y + 1

    with pytest.raises(TypeError, match="changed in place"):
        ffnn.onnx.export(Apply(forward), ffnn.randn(2, 3))


def test_bad_arguments_are_named():
    model = Net()
    x = ffnn.randn(2, 6)
    cases = [
        (TypeError, "model must be an ffnn.nn.Module", (lambda x: x, x), {}),
        (TypeError, "args must be a Tensor or a tuple", (model, np.zeros((2, 6))), {}),
        (ValueError, "args must hold at least one ffnn Tensor", (model, (3,)), {}),
        (TypeError, "f must be a path or a binary file object", (model, x, 42), {}),
        (TypeError, "input_names must be a list of strings", (model, x), {"input_names": "x"}),
        (ValueError, "input_names has 2 names for 1 input", (model, x),
         {"input_names": ["a", "b"]}),
        (ValueError, "output_names has 2 names for 1 output", (model, x),
         {"output_names": ["a", "b"]}),
        (ValueError, "dynamic_axes names 'inp', which is not an input or output name",
         (model, x), {"dynamic_axes": {"inp": [0]}}),
        (ValueError, r"must map axes in \[-2, 2\)", (model, x), {"dynamic_axes": {"x": [2]}}),
        (ValueError, "dynamic_shapes .* is not supported", (model, x),
         {"dynamic_shapes": {"x": {0: "b"}}}),
        (TypeError, r"unexpected keyword argument\(s\) \['opset'\]", (model, x), {"opset": 17}),
    ]
    for error, message, args, options in cases:
        with pytest.raises(error, match=message):
            ffnn.onnx.export(*args, **options)


# ----- torch's options and returns -------------------------------------------------------------
def test_path_none_params_as_inputs_and_in_export_flag(tmp_path):
    seen = []

    class Probe(Net):
        def forward(self, x):
            seen.append(ffnn.onnx.is_in_onnx_export())
            return super().forward(x)

    model = Probe()
    assert ffnn.onnx.export(model, ffnn.randn(2, 6), tmp_path / "m.onnx", dynamo=True,
                            do_constant_folding=True) is None
    assert os.listdir(tmp_path) == ["m.onnx"] and seen and all(seen)
    assert not ffnn.onnx.is_in_onnx_export()
    proto = ffnn.onnx.export(model, ffnn.randn(2, 6), export_params=False)
    assert isinstance(proto, onnx.ModelProto) and not proto.graph.initializer
    params = {k: v.numpy() for k, v in model.state_dict().items()}
    assert {i.name for i in proto.graph.input} == {"x", *params}
    x = _rows(2, 6)
    np.testing.assert_allclose(_run(proto, {"x": x, **params})[0], _eval(model, x)[0],
                               rtol=1e-5)
    kept = ffnn.onnx.export(model, ffnn.randn(2, 6), keep_initializers_as_inputs=True)
    initializers = {i.name for i in kept.graph.initializer}
    assert "fc1.weight" in initializers
    assert initializers <= {i.name for i in kept.graph.input}
    with pytest.warns(UserWarning, match="opset 17; opset_version=11 is not honoured"):
        ffnn.onnx.export(model, ffnn.randn(2, 6), opset_version=11)


class Scale(nn.Module):
    def forward(self, input):
        return input * 2.0


class DoubledLinear(nn.Linear):
    """A library layer whose forward the program overrides: its declared converter no
    longer applies."""

    def forward(self, input):
        return super().forward(input) * 2.0


@pytest.mark.parametrize("build", [
    Residual,
    lambda: nn.Sequential(nn.Linear(8, 8), nn.Tanh(), Scale()),
    lambda: nn.Sequential(nn.Sequential(DoubledLinear(8, 3))),
])
def test_interop_export_falls_back_for_a_program_class(build, tmp_path):
    """``ffnn export``'s function: a model holding a module without a converter is
    exported op by op."""
    model = build()
    path = ffnn_onnx.export(model, tmp_path / "m.onnx", np.zeros((1, 8), np.float32))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    _agrees(model, proto, lambda n: [_rows(n, 8, n)])


# ----- the same program in torch ---------------------------------------------------------------
def _program(torch):
    """A tutorial's network, written against ``torch`` (ffnn or PyTorch: only the import
    differs)."""
    nn, F = torch.nn, torch.nn.functional

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(6, 16)
            self.norm = nn.LayerNorm(16)
            self.drop = nn.Dropout(0.2)
            self.fc2 = nn.Linear(16, 3)

        def forward(self, x):
            h = self.drop(F.relu(self.fc1(x)))
            return F.softmax(self.fc2(self.norm(h) + h), dim=1)

    return Classifier()


def test_same_numbers_as_torchs_own_export():
    import torch

    ours = _program(ffnn)
    theirs = _program(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    theirs.eval()
    options = {"input_names": ["input"], "output_names": ["output"], "dynamic_axes": BATCH}
    proto = _export(ours, ffnn.randn(4, 6), **options)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(theirs, (torch.randn(4, 6),), buffer, dynamo=False, **options)
    reference = onnx.load_from_string(buffer.getvalue())
    assert {i.name for i in proto.graph.initializer} == {
        i.name for i in reference.graph.initializer}
    for batch in (7, 1):
        x = _rows(batch, 6, batch)
        np.testing.assert_allclose(_run(proto, {"input": x})[0],
                                   _run(reference, {"input": x})[0], rtol=1e-5, atol=1e-7)
