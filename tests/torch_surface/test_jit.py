"""``torch.jit``: a model scripted or traced, saved and loaded back, computes what the model
and torch's scripted model compute (float64); the module shares the model's parameters, as
torch's does; the decorators and queries are torch's."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close


def _net_class(lib, name: str) -> type:
    """A program's network, defined at module level (a loaded file names its class)."""
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = lib.nn.Linear(4, 8), lib.nn.Linear(8, 2)
            self.norm = lib.nn.BatchNorm1d(8)

        def forward(self, x):
            return self.fc2(lib.nn.functional.relu(self.norm(self.fc1(x))))

    Net.__qualname__ = name
    return Net


FfnnNet, TorchNet = _net_class(ffnn, "FfnnNet"), _net_class(torch, "TorchNet")


def _net(lib):
    net_class = FfnnNet if lib is ffnn else TorchNet
    model = net_class().double()
    rng = np.random.default_rng(3)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
        model.norm.running_var.copy_(lib.tensor(rng.uniform(0.5, 2.0, 8)))
    return net_class, model.eval()


@pytest.mark.parametrize("kind", ["script", "trace"])
def test_a_saved_and_loaded_module_computes_what_the_model_and_torchs_compute(kind, tmp_path):
    x = np.random.default_rng(4).standard_normal((5, 4))
    outputs = []
    for lib in (ffnn, torch):
        _, model = _net(lib)
        example = lib.tensor(x)
        module = lib.jit.script(model) if kind == "script" else lib.jit.trace(model, example)
        assert isinstance(module, lib.jit.ScriptModule) and isinstance(module, lib.nn.Module)
        assert module.fc1.weight.data_ptr() == model.fc1.weight.data_ptr()
        path = tmp_path / f"{lib.__name__}.pt"
        module.save(str(path))
        loaded = lib.jit.load(str(path))
        assert list(loaded.state_dict()) == list(model.state_dict())
        outputs.append((loaded(example).detach().numpy(), model(example).detach().numpy()))
    assert_close(outputs[0][0], outputs[0][1])
    assert_close(outputs[0][0], outputs[1][0])


def test_jit_save_and_load_through_a_file_object_and_the_functions():
    net_class, model = _net(ffnn)
    buffer = io.BytesIO()
    ffnn.jit.save(ffnn.jit.script(model), buffer)
    buffer.seek(0)
    loaded = ffnn.jit.load(buffer)
    assert isinstance(loaded, net_class) and loaded.original_name == "Net"
    assert "def forward" in loaded.code
    x = ffnn.randn(3, 4, dtype=ffnn.float64)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert ffnn.jit.script(loaded) is loaded


def test_functions_decorators_and_queries_are_torchs():
    def double(x):
        return 2 * x

    assert ffnn.jit.script(double) is double
    for decorator in ("ignore", "unused", "export"):
        assert getattr(ffnn.jit, decorator)(double) is double
        assert getattr(ffnn.jit, decorator)(drop=True)(double) is double
    for name in ("is_scripting", "is_tracing"):
        assert getattr(ffnn.jit, name)() is getattr(torch.jit, name)() is False
    assert ffnn.jit.annotate(list, [1]) == torch.jit.annotate(list[int], [1])


def test_freeze_trace_and_load_refuse_what_torch_refuses(tmp_path):
    for lib in (ffnn, torch):
        model = lib.nn.Linear(2, 2)
        with pytest.raises(RuntimeError, match="eval mode"):
            lib.jit.freeze(lib.jit.script(model))
        assert lib.jit.freeze(lib.jit.script(model.eval())) is not None
        with pytest.raises(RuntimeError):
            lib.jit.trace(model)
    ffnn.save({"epoch": 1}, tmp_path / "not_a_module.pt")
    with pytest.raises(RuntimeError, match="not a saved module"):
        ffnn.jit.load(tmp_path / "not_a_module.pt")
