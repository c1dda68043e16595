"""ONNX export: the checker accepts the file and onnxruntime reproduces ffnn's outputs for
two batch sizes (the batch dimension is symbolic)."""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import ffnn
from ffnn import nn
from ffnn.interop import onnx as ffnn_onnx
from ffnn.interop.pretrained import load_minilm_ffn


def _trained_batch_norm(features: int) -> nn.BatchNorm1d:
    """A BatchNorm1d with non-trivial running statistics and affine parameters."""
    bn = nn.BatchNorm1d(features)
    for _ in range(3):
        bn(ffnn.randn(16, features) * 3.0 + 1.5)
    rng = np.random.default_rng(3)
    bn.weight.data[...] = rng.uniform(0.5, 2.0, features)
    bn.bias.data[...] = rng.standard_normal(features)
    return bn


def _randomise_norms(model: nn.Module) -> nn.Module:
    rng = np.random.default_rng(5)
    for module in model.modules():
        if isinstance(module, (nn.LayerNorm, nn.RMSNorm)) and module.weight is not None:
            module.weight.data[...] = rng.uniform(0.5, 2.0, module.weight.shape)
            if getattr(module, "bias", None) is not None:
                module.bias.data[...] = rng.standard_normal(module.bias.shape)
    return model


MODELS = {
    "mlp_relu_tanh_softmax": (
        lambda: nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 8),
                              nn.Tanh(), nn.Linear(8, 4), nn.Softmax(dim=1)),
        (6,),
    ),
    "mlp_batchnorm_layernorm": (
        lambda: nn.Sequential(nn.Linear(6, 12), _trained_batch_norm(12), nn.LeakyReLU(0.2),
                              nn.Linear(12, 12), nn.LayerNorm(12), nn.GELU(), nn.Linear(12, 5),
                              nn.Sigmoid()),
        (6,),
    ),
    "mlp_more_activations": (
        lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 10), nn.GELU(approximate="tanh"),
                              nn.RMSNorm(10, eps=1e-6), nn.SiLU(), nn.Identity(),
                              nn.Linear(10, 3, bias=False), nn.LogSoftmax(dim=-1)),
        (3, 4),
    ),
    "mlp_rrelu_alpha_dropout": (  # both in eval: LeakyReLU of the mean slope, identity
        lambda: nn.Sequential(nn.Linear(6, 10), nn.Tanh(), nn.AlphaDropout(0.1),
                              nn.Linear(10, 8), nn.RReLU(0.1, 0.3), nn.Linear(8, 2)),
        (6,),
    ),
    "feedforward": (lambda: nn.FeedForward(8, 32, dropout=0.1), (5, 8)),
    "feedforward_relu": (lambda: nn.FeedForward(8, 32, activation="relu", bias=False), (8,)),
    "swiglu": (lambda: nn.SwiGLU(8, 24), (5, 8)),
    "geglu": (lambda: nn.GEGLU(8, 24, bias=True), (5, 8)),
    "residual_post_layer": (lambda: nn.ResidualFFN(8, 32, eps=1e-12), (5, 8)),
    "residual_pre_rms_swiglu": (
        lambda: nn.ResidualFFN(8, 32, norm="rms", position="pre", ffn="swiglu", bias=False,
                               eps=1e-6),
        (5, 8),
    ),
}


def _session(path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _check_round_trip(model, feature_shape, path):
    rng = np.random.default_rng(11)
    example = rng.standard_normal((2, *feature_shape)).astype(np.float32)
    model.train()  # export must give the inference behaviour whatever the mode
    assert ffnn_onnx.export(model, path, example) == path
    assert model.training  # the mode is restored
    onnx.checker.check_model(str(path), full_check=True)
    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"

    session = _session(path)
    model.eval()
    for batch in (3, 7):
        x = rng.standard_normal((batch, *feature_shape)).astype(np.float32)
        (got,) = session.run(None, {"input": x})
        with ffnn.no_grad():
            expected = model(ffnn.tensor(x)).data
        assert got.shape == expected.shape and got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_export_matches_onnxruntime(kind, tmp_path):
    build, feature_shape = MODELS[kind]
    _check_round_trip(_randomise_norms(build()), feature_shape, tmp_path / f"{kind}.onnx")


ACTIVATIONS = [
    lambda: nn.ELU(0.7), nn.SELU, lambda: nn.CELU(0.6), nn.Softplus,
    lambda: nn.Softplus(beta=2.0), nn.Softsign, nn.Mish, nn.Hardsigmoid, nn.Hardswish,
    lambda: nn.Hardtanh(-0.5, 0.7), nn.ReLU6, lambda: nn.PReLU(8, 0.3), nn.PReLU,
    nn.LogSigmoid, nn.Tanhshrink, lambda: nn.Threshold(0.1, -0.4), lambda: nn.Hardshrink(0.2),
    lambda: nn.Softshrink(0.1), nn.GLU, lambda: nn.Softmin(dim=1),
    lambda: nn.Sequential(nn.Linear(8, 8), nn.RReLU(0.1, 0.3), nn.AlphaDropout(0.1)),
]


ACTIVATION_IDS = [f"{repr(make()).split('(')[0]}{i}" for i, make in enumerate(ACTIVATIONS)]


@pytest.mark.parametrize("make", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_each_activation_exports_as_it_computes(make, tmp_path):
    """Each after x ↦ 3x on [n, 8] normal values (both signs, large ones too), so that a
    wrong constant (α, β, λ, a slope) shows in the output."""
    activation = make()
    if isinstance(activation, nn.PReLU):
        activation.weight.data[...] = np.linspace(0.1, 0.5, activation.num_parameters)
    scale = nn.Linear(8, 8, bias=False)  # x ↦ 3x
    scale.weight.data[...] = 3 * np.eye(8)
    _check_round_trip(nn.Sequential(scale, activation), (8,), tmp_path / "activation.onnx")


def test_export_real_pretrained_block(tmp_path):
    _check_round_trip(load_minilm_ffn(2), (4, 384), tmp_path / "minilm.onnx")


def test_export_lora_adapted_block(tmp_path):
    """LoRA adapters (with a non-zero B) are folded into the exported weights."""
    from ffnn.finetune import apply_lora

    block = apply_lora(nn.ResidualFFN(8, 32), target=["ffn.fc1", "ffn.fc2"], r=4)
    for name, param in block.named_parameters():
        if name.endswith("lora_B"):
            param.data[...] = np.random.default_rng(1).standard_normal(param.shape) * 0.3
    _check_round_trip(block, (5, 8), tmp_path / "lora.onnx")


def test_file_is_written_atomically(tmp_path):
    path = tmp_path / "sub" / "model.onnx"
    model = nn.Sequential(nn.Linear(3, 2))
    ffnn_onnx.export(model, path, np.zeros((1, 3), np.float32))
    model[0].bias.data[...] = 7.0
    ffnn_onnx.export(model, path, np.zeros((1, 3), np.float32))  # overwrite in place
    assert os.listdir(path.parent) == ["model.onnx"]  # no temporary file left behind
    (got,) = _session(path).run(None, {"input": np.zeros((2, 3), np.float32)})
    np.testing.assert_allclose(got, 7.0 + np.zeros((2, 2)))


def test_fixed_batch_when_asked(tmp_path):
    path = ffnn_onnx.export(nn.Linear(3, 2), tmp_path / "m.onnx", np.zeros((4, 3), np.float32),
                            dynamic_batch=False)
    assert onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4


def test_identity_model(tmp_path):
    path = ffnn_onnx.export(nn.Sequential(nn.Identity()), tmp_path / "id.onnx",
                            np.zeros((1, 3), np.float32))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(_session(path).run(None, {"input": x})[0], x)


class Scale(nn.Module):
    def forward(self, input):
        return input * 2.0


class MyLinear(nn.Linear):
    def forward(self, input):
        return super().forward(input) * 2.0


@pytest.mark.parametrize("model", [nn.Sequential(nn.Linear(3, 3), Scale()),
                                   nn.Sequential(nn.Sequential(MyLinear(3, 3))), Scale()],
                         ids=["scale-in-sequential", "nested-subclass", "scale"])
def test_a_programs_own_modules_export_op_by_op(model, tmp_path):
    """A module without a converter of its own (a program's class, a subclass that overrides
    forward) is exported from the ops of one forward (``ffnn.interop.onnx_trace``)."""
    path = ffnn_onnx.export(model, tmp_path / "m.onnx", np.zeros((1, 3), np.float32))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    expected = model.eval()(ffnn.tensor(x)).detach().numpy()
    np.testing.assert_allclose(_session(path).run(None, {"input": x})[0], expected, rtol=1e-6)


def test_bad_arguments_are_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"Flatten\(start_dim>=0, end_dim=-1\) only. Received: "
                                         r"Flatten\(start_dim=1, end_dim=2\) at '0'"):
        ffnn_onnx.export(nn.Sequential(nn.Flatten(1, 2)), tmp_path / "m.onnx",
                         np.zeros((1, 2, 2, 2), np.float32))
    with pytest.raises(ValueError, match="track_running_stats=False"):
        ffnn_onnx.export(nn.BatchNorm1d(3, track_running_stats=False), tmp_path / "m.onnx",
                         np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"floating-point array of shape \[batch, \.\.\.\] .*"
                                         r"Received: int64 array of shape \(2, 3\)"):
        ffnn_onnx.export(nn.Linear(3, 1), tmp_path / "m.onnx", np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match=r"Received: float32 array of shape \(3,\)"):
        ffnn_onnx.export(nn.Linear(3, 1), tmp_path / "m.onnx", np.zeros(3, np.float32))
    with pytest.raises(TypeError, match="model must be an ffnn.nn.Module"):
        ffnn_onnx.export(lambda x: x, tmp_path / "m.onnx", np.zeros((2, 3), np.float32))


def test_missing_onnx_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    with pytest.raises(ImportError, match="pip install onnx onnxruntime"):
        ffnn_onnx.export(nn.Linear(3, 1), tmp_path / "m.onnx", np.zeros((2, 3), np.float32))


def test_input_shape_is_read_from_the_first_layer():
    assert ffnn_onnx.input_shape(nn.Sequential(nn.Dropout(), nn.Linear(7, 2))) == (7,)
    assert ffnn_onnx.input_shape(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(5))) == (5,)
    assert ffnn_onnx.input_shape(nn.ResidualFFN(9, 18)) == (9,)
    with pytest.raises(ValueError, match="cannot tell the input shape of Scale"):
        ffnn_onnx.input_shape(Scale())


@pytest.mark.parametrize("build", [
    lambda: nn.Sequential(nn.Linear(5, 4), _trained_batch_norm(4), nn.GELU(), nn.Linear(4, 2)),
    lambda: nn.Sequential(nn.ResidualFFN(5, 12, norm="rms", position="pre", ffn="swiglu"),
                          nn.Linear(5, 2)),
])
def test_export_checkpoint_round_trip(build, tmp_path):
    """ffnn.save → export_checkpoint (the ``ffnn export`` command) → onnxruntime."""
    model = _randomise_norms(build())
    ffnn.save(tmp_path / "model.safetensors", model)
    path = ffnn_onnx.export_checkpoint(tmp_path / "model.safetensors", tmp_path / "m.onnx")
    model.eval()
    for batch in (1, 6):
        x = np.random.default_rng(batch).standard_normal((batch, 5)).astype(np.float32)
        with ffnn.no_grad():
            expected = model(ffnn.tensor(x)).data
        np.testing.assert_allclose(_session(path).run(None, {"input": x})[0], expected,
                                   rtol=1e-5, atol=1e-5)


def test_export_checkpoint_accepts_other_load_results(monkeypatch, tmp_path):
    """What ffnn.load returns may be a model, an object with .model, or a (model, …) tuple."""
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))

    class Loaded:
        def __init__(self, model):
            self.model = model

    for loaded in (model, Loaded(model), (model, {"epoch": 3})):
        monkeypatch.setitem(vars(ffnn), "load", lambda path, loaded=loaded: loaded)
        path = ffnn_onnx.export_checkpoint(tmp_path / "ckpt", tmp_path / "m.onnx")
        x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
        np.testing.assert_allclose(_session(path).run(None, {"input": x})[0],
                                   model(ffnn.tensor(x)).data, rtol=1e-5, atol=1e-6)
    monkeypatch.setitem(vars(ffnn), "load", lambda path: Loaded(None))
    with pytest.raises(TypeError, match="the checkpoint holds no model"):
        ffnn_onnx.export_checkpoint(tmp_path / "ckpt", tmp_path / "m.onnx")
