"""ffnn.save / ffnn.load: what goes in comes back (weights, optimizer, scheduler, scaler,
metadata, dtypes, frozen flags), built-in architectures rebuild without user code."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import nn
from ffnn.data import StandardScaler
from ffnn.finetune import apply_lora, freeze, is_frozen_batchnorm
from ffnn.io import register_spec


def _mlp(dtype=ffnn.float32):
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1),
                         nn.Linear(8, 6), nn.LayerNorm(6), nn.GELU("tanh"), nn.Linear(6, 3),
                         nn.LogSoftmax(dim=-1)).to(dtype)


def _train_step(model, optimizer, x):
    loss = model(x).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_round_trip_rebuilds_model_and_state(tmp_path):
    model = _mlp(ffnn.float64)
    optimizer = ffnn.optim.Adam(model.parameters(), lr=1e-2, betas=(0.8, 0.99))
    scheduler = ffnn.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    x = ffnn.randn(16, 4).double()
    for _ in range(3):
        _train_step(model, optimizer, x)
        scheduler.step()
    scaler = StandardScaler().fit(np.random.default_rng(0).normal(size=(20, 4)))
    metadata = {"feature_names": ["a", "b", "c", "d"], "classes": [0, 1, 2], "epoch": 3,
                "history": {"loss": [1.0, 0.5, float("nan")]}, "mask": np.arange(4) > 1}
    path = tmp_path / "model.safetensors"
    ffnn.save(path, model, optimizer, scheduler, scaler, metadata)

    checkpoint = ffnn.load(path)
    rebuilt = checkpoint.model
    assert [type(m) for m in rebuilt] == [type(m) for m in model]
    for (k, v), (k2, v2) in zip(model.state_dict().items(), rebuilt.state_dict().items()):
        assert k == k2 and v.dtype == v2.dtype and np.array_equal(v, v2)
    model.eval()
    rebuilt.eval()
    np.testing.assert_array_equal(rebuilt(x).data, model(x).data)
    assert rebuilt[6].approximate == "tanh" and rebuilt[3].p == 0.1

    saved, loaded = optimizer.state_dict(), checkpoint.optimizer
    assert loaded["param_groups"] == saved["param_groups"]  # tuples (betas) and ints intact
    assert set(loaded["state"]) == set(saved["state"])
    for index, values in saved["state"].items():
        for name, value in values.items():
            np.testing.assert_array_equal(loaded["state"][index][name], value)
    assert checkpoint.scheduler == scheduler.state_dict()
    np.testing.assert_array_equal(checkpoint.scaler.mean_, scaler.mean_)
    np.testing.assert_array_equal(checkpoint.scaler.transform(np.ones((2, 4))),
                                  scaler.transform(np.ones((2, 4))))
    assert checkpoint.metadata["feature_names"] == metadata["feature_names"]
    assert np.isnan(checkpoint.metadata["history"]["loss"][2])
    np.testing.assert_array_equal(checkpoint.metadata["mask"], metadata["mask"])
    assert checkpoint.format_version == 1 and checkpoint.ffnn_version == ffnn.__version__

    fresh = ffnn.optim.Adam(rebuilt.parameters(), lr=1.0)
    fresh.load_state_dict(checkpoint.optimizer)
    ffnn.manual_seed(3)  # same dropout masks for both
    _train_step(model.train(), optimizer, x)
    ffnn.manual_seed(3)
    _train_step(rebuilt.train(), fresh, x)
    np.testing.assert_array_equal(rebuilt[0].weight.data, model[0].weight.data)


def test_load_leaves_the_global_generator_alone(tmp_path):
    ffnn.save(tmp_path / "m.safetensors", _mlp())
    ffnn.manual_seed(5)
    expected = ffnn.rand(3).data
    ffnn.manual_seed(5)
    ffnn.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(ffnn.rand(3).data, expected)


def test_rng_state_is_saved(tmp_path):
    model = _mlp()
    ffnn.manual_seed(11)
    state = ffnn.get_rng_state()
    ffnn.save(tmp_path / "m.safetensors", model)
    assert ffnn.load(tmp_path / "m.safetensors").rng_state == state


def test_frozen_flags_and_mode_survive(tmp_path):
    model = _mlp()
    freeze(model, 0, 1)
    model.eval()
    ffnn.save(tmp_path / "m.safetensors", model)
    rebuilt = ffnn.load(tmp_path / "m.safetensors").model
    assert [p.requires_grad for p in rebuilt.parameters()] == \
        [p.requires_grad for p in model.parameters()]
    assert is_frozen_batchnorm(rebuilt[1]) and not rebuilt.training


def test_ffn_blocks_and_lora_rebuild(tmp_path):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 2))
    apply_lora(model, "all-linear", r=2, alpha=4)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            param.data[...] = 0.1
    ffnn.save(tmp_path / "m.safetensors", model)
    rebuilt = ffnn.load(tmp_path / "m.safetensors").model
    x = ffnn.randn(5, 4)
    np.testing.assert_array_equal(rebuilt(x).data, model(x).data)
    assert type(rebuilt[0]).__name__ == "LoRALinear" and rebuilt[0].r == 2


def test_feedforward_block_rebuilds(tmp_path):
    from ffnn.nn.ffn import ResidualFFN

    block = ResidualFFN(6, 12, norm="rms", position="pre", ffn="swiglu")
    ffnn.save(tmp_path / "b.safetensors", block)
    rebuilt = ffnn.load(tmp_path / "b.safetensors").model
    x = ffnn.randn(3, 6)
    np.testing.assert_array_equal(rebuilt(x).data, block(x).data)


class _Custom(nn.Module):
    def __init__(self, width=3):
        super().__init__()
        self.width = width
        self.fc = nn.Linear(width, 2)

    def forward(self, x):
        return self.fc(x) * 2


def test_custom_module_needs_its_class(tmp_path):
    model = _Custom()
    path = tmp_path / "c.safetensors"
    ffnn.save(path, model)
    with pytest.raises(ffnn.CheckpointError, match="load_state_dict") as info:
        ffnn.load(path)
    assert "_Custom" in str(info.value) and str(path) in str(info.value)
    other = _Custom()
    ffnn.load(path, model=other)
    np.testing.assert_array_equal(other.fc.weight.data, model.fc.weight.data)
    state = ffnn.load_state_dict(path)
    assert list(state) == ["fc.weight", "fc.bias"]
    np.testing.assert_array_equal(state["fc.bias"], model.fc.bias.data)


def test_registered_custom_module_rebuilds(tmp_path):
    class Scaled(_Custom):
        pass

    register_spec(Scaled, lambda m: {"width": m.width}, lambda c: Scaled(**c),
                  shapes=lambda c: {})
    model = Scaled(5)
    ffnn.save(tmp_path / "s.safetensors", model)
    rebuilt = ffnn.load(tmp_path / "s.safetensors").model
    assert isinstance(rebuilt, Scaled) and rebuilt.width == 5
    np.testing.assert_array_equal(rebuilt.fc.weight.data, model.fc.weight.data)


def test_adapters_only_checkpoint(tmp_path):
    base = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    ffnn.save(tmp_path / "base.safetensors", base)
    tuned = ffnn.load(tmp_path / "base.safetensors").model
    apply_lora(tuned, "*", r=2)
    for name, param in tuned.named_parameters():
        if "lora" in name:
            param.data[...] = np.random.default_rng(0).normal(size=param.shape)
    path = tmp_path / "adapters.safetensors"
    ffnn.save(path, tuned, adapters_only=True)
    assert set(ffnn.load_state_dict(path)) == {"0.lora_A", "0.lora_B", "2.lora_A", "2.lora_B"}
    with pytest.raises(ffnn.CheckpointError, match="base model"):
        ffnn.load(path)
    target = ffnn.load(tmp_path / "base.safetensors").model
    loaded = ffnn.load(path, model=target).model
    x = ffnn.randn(6, 4)
    np.testing.assert_array_equal(loaded(x).data, tuned(x).data)
    assert all(("lora" in n) == p.requires_grad for n, p in loaded.named_parameters())
    with pytest.raises(ffnn.CheckpointError, match="expects Linear"):
        ffnn.load(path, model=nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)))


def test_save_rejects_bad_arguments(tmp_path):
    path = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match="model must be an ffnn.nn.Module. Received: dict"):
        ffnn.save(path, {"w": np.ones(2)})
    with pytest.raises(TypeError, match="optimizer must have a state_dict"):
        ffnn.save(path, _mlp(), optimizer=3)
    with pytest.raises(TypeError, match="metadata must be a dict. Received: list"):
        ffnn.save(path, _mlp(), metadata=[1])
    with pytest.raises(TypeError, match="cannot save metadata.fn"):
        ffnn.save(path, _mlp(), metadata={"fn": print})
    with pytest.raises(ValueError, match="no LoRALinear"):
        ffnn.save(path, _mlp(), adapters_only=True)
    assert not path.exists() and list(tmp_path.iterdir()) == []
