"""PyTorch interop: state_dicts both ways and Sequential MLPs, outputs equal in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import ffnn
from ffnn import nn
from ffnn.interop.torch import (
    from_torch,
    load_state_dict_file,
    load_torch_state_dict,
    to_torch,
    to_torch_state_dict,
)

TOL = 1e-10


def _torch_mlp():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
        torch.nn.Dropout(0.2), torch.nn.Linear(16, 12), torch.nn.LayerNorm(12),
        torch.nn.GELU(approximate="tanh"), torch.nn.Linear(12, 8), torch.nn.RMSNorm(8),
        torch.nn.SiLU(), torch.nn.Linear(8, 8), torch.nn.LeakyReLU(0.1), torch.nn.Tanh(),
        torch.nn.Linear(8, 3), torch.nn.LogSoftmax(dim=1)).double()
    with torch.no_grad():  # non-trivial norm parameters and running statistics
        for module in model.modules():
            if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.LayerNorm, torch.nn.RMSNorm)):
                module.weight.uniform_(0.5, 1.5)
                if getattr(module, "bias", None) is not None:
                    module.bias.uniform_(-0.5, 0.5)
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
    return model.eval()


def _ffnn_twin():
    return nn.Sequential(
        nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 12),
        nn.LayerNorm(12), nn.GELU("tanh"), nn.Linear(12, 8), nn.RMSNorm(8), nn.SiLU(),
        nn.Linear(8, 8), nn.LeakyReLU(0.1), nn.Tanh(), nn.Linear(8, 3),
        nn.LogSoftmax(dim=1)).double().eval()


def _x():
    return np.random.default_rng(0).normal(size=(10, 6))


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=TOL, atol=TOL)


def test_safetensors_file_from_torch_loads(tmp_path):
    source = _torch_mlp()
    path = tmp_path / "model.safetensors"
    save_file(source.state_dict(), str(path))
    state = load_state_dict_file(path)
    assert list(state) == sorted(source.state_dict()) or set(state) == set(source.state_dict())
    model = _ffnn_twin()
    model.load_state_dict(state)
    _close(model(ffnn.tensor(_x())).data, source(torch.from_numpy(_x())).detach().numpy())
    other = _ffnn_twin()
    load_torch_state_dict(other, path)
    _close(other(ffnn.tensor(_x())).data, model(ffnn.tensor(_x())).data)


def test_dict_of_torch_tensors_loads():
    source = _torch_mlp()
    model = _ffnn_twin()
    load_torch_state_dict(model, source.state_dict())
    _close(model(ffnn.tensor(_x())).data, source(torch.from_numpy(_x())).detach().numpy())
    assert int(model[1].num_batches_tracked) == int(source[1].num_batches_tracked)


def test_export_to_torch_load_state_dict():
    ffnn.manual_seed(3)
    model = _ffnn_twin()
    model[1].running_mean[...] = np.linspace(-1, 1, 16)
    target = _torch_mlp()
    target.load_state_dict(to_torch_state_dict(model))  # strict: every key and shape matches
    _close(target(torch.from_numpy(_x())).detach().numpy(), model(ffnn.tensor(_x())).data)


def test_from_torch_builds_the_equivalent_model():
    source = _torch_mlp()
    model = from_torch(source)
    assert [type(m).__name__ for m in model] == [type(m).__name__ for m in source]
    assert model[0].weight.dtype == np.float64 and not model.training
    _close(model(ffnn.tensor(_x())).data, source(torch.from_numpy(_x())).detach().numpy())
    # train mode too (batch statistics), and gradients agree after one backward
    source.train()
    model.train()
    source[3].p = model[3].p = 0.0
    xt = torch.from_numpy(_x()).requires_grad_(True)
    source(xt).sum().backward()
    xf = ffnn.tensor(_x(), requires_grad=True)
    model(xf).sum().backward()
    _close(model(ffnn.tensor(_x())).data, source(torch.from_numpy(_x())).detach().numpy())
    _close(xf.grad, xt.grad.numpy())
    _close(model[0].weight.grad, source[0].weight.grad.numpy())


def test_to_torch_round_trip():
    ffnn.manual_seed(4)
    model = _ffnn_twin()
    back = to_torch(model)
    assert isinstance(back, torch.nn.Sequential) and back[0].weight.dtype == torch.float64
    _close(back(torch.from_numpy(_x())).detach().numpy(), model(ffnn.tensor(_x())).data)


def test_unsupported_layers_are_named():
    class Odd(torch.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match=r"module\.1 is a torch Odd, which has no ffnn"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), Odd()))
    with pytest.raises(TypeError, match="expects a torch.nn.Module. Received: dict"):
        from_torch({})
    from ffnn.finetune import apply_lora

    with pytest.raises(TypeError, match="merge_lora"):
        to_torch(apply_lora(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), "*"))
    with pytest.raises(TypeError, match="mapping of name -> tensor. Received: list"):
        load_torch_state_dict(_ffnn_twin(), [1, 2])


def test_pt_file_is_refused(tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(_torch_mlp().state_dict(), path)
    with pytest.raises(ffnn.CheckpointError, match="save_file"):
        load_state_dict_file(path)
