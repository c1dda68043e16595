"""What ``print(model)`` and the module tree of MultiheadAttention and the transformer layers
show, against torch's: MultiheadAttention has no options line and its ``out_proj`` is a
``NonDynamicallyQuantizableLinear``; an activation given by name or as a function is kept as a
function (no ``(activation)`` child), a Module activation is the last child. Also that the
subclass of Linear leaves ``isinstance``, LoRA targets and checkpoints as they were."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from ffnn.finetune.lora import lora_targets

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

ACTIVATIONS = {
    # name: the activation argument in the library
    "relu": lambda lib: "relu", "gelu": lambda lib: "gelu",
    "F.gelu": lambda lib: lib.nn.functional.gelu, "F.relu": lambda lib: lib.nn.functional.relu,
    "GELU()": lambda lib: lib.nn.GELU(), "ReLU()": lambda lib: lib.nn.ReLU(),
    "GELU(tanh)": lambda lib: lib.nn.GELU(approximate="tanh"),
}


def _tree(module) -> tuple:
    """What a user sees of a module: its printout, module names and state_dict keys."""
    return (repr(module), [name for name, _ in module.named_modules()],
            list(module.state_dict().keys()))


def _each(build):
    return build(ffnn), build(torch)


@pytest.mark.parametrize("options", [{}, {"bias": False}, {"dropout": 0.25},
                                     {"batch_first": True}])
def test_multihead_attention_prints_as_torchs(options):
    ours, theirs = _each(lambda lib: lib.nn.MultiheadAttention(8, 2, **options))
    assert _tree(ours) == _tree(theirs)
    assert ours.extra_repr() == theirs.extra_repr() == ""


def test_out_proj_is_torchs_linear_subclass():
    ours = nn.MultiheadAttention(8, 2).out_proj
    assert type(ours) is nn.modules.linear.NonDynamicallyQuantizableLinear
    assert type(ours).__name__ == type(torch.nn.MultiheadAttention(8, 2).out_proj).__name__
    assert isinstance(ours, nn.Linear)
    assert issubclass(nn.modules.linear.NonDynamicallyQuantizableLinear, nn.Linear)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("layer", ["TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_transformer_layers_print_their_activation_as_torch(layer, activation):
    def build(lib):
        return getattr(lib.nn, layer)(8, 2, 16, activation=ACTIVATIONS[activation](lib))

    ours, theirs = _each(build)
    assert _tree(ours) == _tree(theirs)


@pytest.mark.parametrize("activation", ["gelu", "GELU()", "F.relu"])
def test_transformer_and_encoder_print_as_torchs(activation):
    def build(lib):
        return lib.nn.Transformer(8, 2, 2, 1, 16, activation=ACTIVATIONS[activation](lib))

    ours, theirs = _each(build)
    assert _tree(ours) == _tree(theirs)
    assert _tree(ours.encoder) == _tree(theirs.encoder)


def test_a_named_activation_is_kept_as_torchs_function():
    assert nn.TransformerEncoderLayer(8, 2, activation="gelu").activation is \
        nn.functional.gelu
    assert nn.TransformerDecoderLayer(8, 2).activation is nn.functional.relu


@pytest.mark.parametrize("activation", ["relu", "gelu", "F.gelu", "GELU(tanh)"])
def test_layers_with_each_activation_save_and_rebuild(activation, tmp_path):
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.TransformerEncoderLayer(8, 2, 16, 0.0, ACTIVATIONS[activation](ffnn),
                                   batch_first=True),
        nn.TransformerDecoderLayer(8, 2, 16, 0.0, ACTIVATIONS[activation](ffnn),
                                   batch_first=True))
    ffnn.save(tmp_path / "model.safetensors", model)
    loaded = ffnn.load(tmp_path / "model.safetensors").model
    assert repr(loaded) == repr(model)
    assert type(loaded[0].self_attn.out_proj) is nn.modules.linear.NonDynamicallyQuantizableLinear
    x = ffnn.tensor(rng.standard_normal((2, 3, 8)).astype(np.float32))
    np.testing.assert_array_equal(loaded[0](x).numpy(), model[0](x).numpy())
    np.testing.assert_array_equal(loaded[1](x, x).numpy(), model[1](x, x).numpy())


def test_a_layer_with_an_unnamed_function_is_saved_without_a_spec_that_says_why(tmp_path):
    model = nn.TransformerEncoderLayer(8, 2, 16, activation=lambda x: x * 2)
    ffnn.save(tmp_path / "model.safetensors", model)
    with pytest.raises(ffnn.CheckpointError, match="activation"):
        ffnn.load(tmp_path / "model.safetensors")


def test_lora_still_adapts_the_attention_output_projection():
    model = nn.Sequential(nn.TransformerEncoderLayer(8, 2, 16), nn.Linear(8, 2))
    assert lora_targets(model) == ["0.self_attn.out_proj", "0.linear1", "0.linear2"]
