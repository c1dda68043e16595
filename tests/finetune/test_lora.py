"""LoRA: initial output = base, scaling α/r, gradients only into A and B (checked against
torch), merge_lora keeps the outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from ffnn.finetune import LoRALinear, apply_lora, merge_lora


def test_fresh_adapter_leaves_output_unchanged_and_init_is_right():
    base = nn.Linear(20, 7)
    layer = LoRALinear(base, r=4, alpha=8, dropout=0.1)
    x = ffnn.randn(5, 20)
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, base(x).data)
    assert layer.scaling == 2.0 and layer.lora_A.shape == (4, 20)
    assert np.all(layer.lora_B.data == 0)
    bound = 1 / math.sqrt(20)  # kaiming-uniform with a = √5: U(-1/√fan_in, 1/√fan_in)
    assert np.abs(layer.lora_A.data).max() <= bound and layer.lora_A.data.std() > bound / 4


def test_forward_and_gradients_match_torch():
    base = nn.Linear(6, 3).double()
    layer = LoRALinear(base, r=2, alpha=5)
    layer.lora_B.data[...] = np.random.default_rng(0).normal(size=(3, 2))
    for p in base.parameters():
        p.requires_grad_(False)
    x = np.random.default_rng(1).normal(size=(4, 6))
    out = layer(ffnn.tensor(x))
    (out * out).sum().backward()

    W, b = torch.tensor(base.weight.numpy()), torch.tensor(base.bias.numpy())
    A = torch.tensor(layer.lora_A.numpy(), requires_grad=True)
    B = torch.tensor(layer.lora_B.numpy(), requires_grad=True)
    expected = torch.tensor(x) @ W.T + b + (torch.tensor(x) @ A.T @ B.T) * (5 / 2)
    (expected * expected).sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.lora_A.grad, A.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.lora_B.grad, B.grad.numpy(), rtol=1e-10, atol=1e-10)
    assert base.weight.grad is None


def _trained_lora_model():
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.GELU(),
                          nn.Linear(16, 3))
    apply_lora(model, "all-linear", r=4, alpha=8)
    optimizer = ffnn.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.05)
    x, y = ffnn.randn(32, 8), ffnn.randint(0, 3, (32,))
    for _ in range(5):
        loss = nn.CrossEntropyLoss()(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, x


def test_apply_lora_targets_and_freezes():
    model, _ = _trained_lora_model()
    assert [type(m).__name__ for m in model] == ["LoRALinear", "ReLU", "LoRALinear", "GELU",
                                                 "Linear"]  # 'all-linear' skips the head
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ["0.lora_A", "0.lora_B", "2.lora_A", "2.lora_B"]
    assert np.any(model[0].lora_B.data != 0)
    other = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    apply_lora(other, ["1"], r=1)
    assert isinstance(other[1], LoRALinear) and isinstance(other[0], nn.Linear)


def test_merge_lora_keeps_outputs():
    model, x = _trained_lora_model()
    merged = merge_lora(model)
    assert all(type(m).__name__ != "LoRALinear" for m in merged.modules())
    assert isinstance(model[0], LoRALinear)  # the original is untouched
    np.testing.assert_allclose(merged(x).data, model(x).data, atol=1e-6, rtol=0)


def test_lora_errors():
    with pytest.raises(TypeError, match="base must be an ffnn.nn.Linear. Received: base of "
                                        "type ReLU"):
        LoRALinear(nn.ReLU())
    with pytest.raises(ValueError, match="r must be a positive integer. Received: r=0"):
        LoRALinear(nn.Linear(2, 2), r=0)
    with pytest.raises(ValueError, match="alpha must be a positive number. Received: alpha=-1"):
        LoRALinear(nn.Linear(2, 2), alpha=-1)
    with pytest.raises(ValueError, match="target selects no Linear"):
        apply_lora(nn.Sequential(nn.Linear(2, 2)), "all-linear")
    with pytest.raises(ValueError, match=r"no Linear named \['fc9'\]"):
        apply_lora(nn.Sequential(nn.Linear(2, 2)), ["fc9"])
