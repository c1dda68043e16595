"""Layer surgery: replace_head, insert_layer, remove_layer, Net2Net widen/deepen."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.finetune import deepen, insert_layer, remove_layer, replace_head, widen


def test_replace_head_keeps_dtype_and_in_features():
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3, bias=False)).double()
    body = model[0].weight.numpy().copy()
    replace_head(model, 7)
    assert model[2].out_features == 7 and model[2].in_features == 6
    assert model[2].bias is None and model[2].weight.dtype == np.float64
    assert model(ffnn.randn(2, 4).double()).shape == (2, 7)
    np.testing.assert_array_equal(model[0].weight.data, body)
    assert list(model._modules) == ["0", "1", "2"]
    with pytest.raises(ValueError, match="out_features must be a positive integer. Received: "
                                         "out_features=0"):
        replace_head(model, 0)
    with pytest.raises(ValueError, match="no Linear layer"):
        replace_head(nn.Sequential(nn.ReLU()), 3)


def test_insert_and_remove_layer():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 2))
    insert_layer(model, 1, nn.ReLU())
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    insert_layer(model, -1, nn.Tanh())
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "Tanh"]
    remove_layer(model, -1)
    remove_layer(model, 1)
    assert [type(m).__name__ for m in model] == ["Linear", "Linear"]
    assert list(model._modules) == ["0", "1"]
    with pytest.raises(IndexError, match=r"index must be an integer in \[-2, 1\]. Received: "
                                         "index=5"):
        remove_layer(model, 5)
    with pytest.raises(TypeError, match="layer must be an ffnn.nn.Module. Received: int"):
        insert_layer(model, 0, 3)
    with pytest.raises(TypeError, match="needs an ffnn.nn.Sequential"):
        remove_layer(nn.Linear(2, 2), 0)


@pytest.mark.parametrize("norm", [None, "batch", "layer", "rms"])
def test_widen_preserves_the_function(norm):
    ffnn.manual_seed(1)
    norms = {None: nn.Identity(), "batch": nn.BatchNorm1d(6), "layer": nn.LayerNorm(6),
             "rms": nn.RMSNorm(6)}
    model = nn.Sequential(nn.Linear(5, 6), norms[norm], nn.GELU(), nn.Dropout(0.3),
                          nn.Linear(6, 3))
    x = ffnn.randn(16, 5)
    model(x)  # BatchNorm: non-trivial running statistics
    model.eval()
    before = model(x).data
    new_width = 12 if norm in ("layer", "rms") else 10
    widen(model, 0, new_width)
    assert model[0].out_features == new_width and model[4].in_features == new_width
    np.testing.assert_allclose(model(x).data, before, atol=1e-6, rtol=0)
    model.train()
    loss = model(x).sum()
    loss.backward()
    assert model[0].weight.grad.shape == (new_width, 5)


def test_widen_noise_breaks_symmetry_only_in_new_units():
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    old = model[0].weight.numpy().copy()
    widen(model, 0, 7, noise=0.1, generator=ffnn.Generator(0))
    np.testing.assert_array_equal(model[0].weight.data[:4], old)
    copies = model[0].weight.data[4:]
    assert not any(np.allclose(row, old_row) for row in copies for old_row in old)


def test_widen_errors():
    model = nn.Sequential(nn.Linear(5, 4), nn.LayerNorm(4), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="must be a multiple of 4. Received: new_width=6"):
        widen(model, 0, 6)
    with pytest.raises(ValueError, match="is the output layer"):
        widen(model, 3, 4)
    with pytest.raises(TypeError, match="position 2 must be a Linear. Received: ReLU"):
        widen(model, 2, 8)
    with pytest.raises(ValueError, match=">= the current width 4. Received: new_width=3"):
        widen(model, 0, 3)
    with pytest.raises(TypeError, match="cannot widen through Softmax"):
        widen(nn.Sequential(nn.Linear(2, 2), nn.Softmax(), nn.Linear(2, 1)), 0, 4)


def test_deepen_after_relu_preserves_the_function():
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2))
    x = ffnn.randn(10, 5)
    before = model(x).data
    deepen(model, 1)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    np.testing.assert_array_equal(model[2].weight.data, np.eye(6, dtype=np.float32))
    np.testing.assert_allclose(model(x).data, before, atol=1e-6, rtol=0)
    with pytest.raises(TypeError, match="position 0 must be a ReLU.*Received: Linear"):
        deepen(model, 0)
    gelu = nn.Sequential(nn.Linear(3, 3), nn.GELU(), nn.Linear(3, 1))
    with pytest.raises(TypeError, match=r"φ\(φ\(x\)\) = φ\(x\).*Received: GELU"):
        deepen(gelu, 1)
