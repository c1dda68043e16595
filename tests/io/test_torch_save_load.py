"""``ffnn.save(obj, f)`` / ``ffnn.load(f)`` as torch programs use them, in the safe format."""

import io
from collections import OrderedDict

import numpy as np
import pytest

import ffnn
import ffnn.nn as nn
import ffnn.optim as optim
from ffnn.io.safefile import read_safetensors


class Net(nn.Module):
    def __init__(self, hidden=5):
        super().__init__()
        self.fc1 = nn.Linear(3, hidden)
        self.fc2 = nn.Linear(hidden, 2)
        self.activation = ffnn.relu
        self.scale = 0.5
        self.sizes = (3, hidden, 2)

    def forward(self, x):
        return self.fc2(self.activation(self.fc1(x))) * self.scale


def _trained():
    model = Net()
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    x = ffnn.randn(8, 3)
    for _ in range(2):
        optimizer.zero_grad()
        model(x).pow(2).mean().backward()
        optimizer.step()
    return model, optimizer, x


@pytest.mark.parametrize("name", ["model.pth", "ckpt.pt", "weights.bin", "w.safetensors"])
def test_state_dict_round_trip_whatever_the_name(tmp_path, name):
    model, _, x = _trained()
    ffnn.save(model.state_dict(), tmp_path / name)
    with open(tmp_path / name, "rb") as handle:
        assert handle.read(1) != b"\x80"  # not a pickle
    read_safetensors(tmp_path / name)  # a valid safetensors file
    state = ffnn.load(tmp_path / name)
    assert isinstance(state, OrderedDict) and list(state) == list(model.state_dict())
    fresh = Net()
    fresh.load_state_dict(state)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_checkpoint_dict_with_optimizer_epoch_and_loss(tmp_path):
    model, optimizer, x = _trained()
    path = str(tmp_path / "checkpoint.tar")
    ffnn.save({"epoch": 7, "model_state_dict": model.state_dict(),
               "optimizer_state_dict": optimizer.state_dict(), "loss": 0.125,
               "history": [0.5, 0.25], "name": "run-1"}, path)
    checkpoint = ffnn.load(path, map_location="cpu", weights_only=True)
    assert (checkpoint["epoch"], checkpoint["loss"], checkpoint["name"]) == (7, 0.125, "run-1")
    assert checkpoint["history"] == [0.5, 0.25]
    resumed = Net()
    resumed.load_state_dict(checkpoint["model_state_dict"])
    resumed_optimizer = optim.Adam(resumed.parameters(), lr=0.05)
    resumed_optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    for m, opt in ((model, optimizer), (resumed, resumed_optimizer)):  # one more identical step
        opt.zero_grad()
        m(x).pow(2).mean().backward()
        opt.step()
    np.testing.assert_array_equal(resumed(x).numpy(), model(x).numpy())


def test_whole_module_round_trip(tmp_path):
    model, _, x = _trained()
    model.eval()
    ffnn.save(model, tmp_path / "model.pth")
    loaded = ffnn.load(tmp_path / "model.pth", weights_only=False)
    assert type(loaded) is Net and not loaded.training
    assert loaded.activation is ffnn.relu and loaded.scale == 0.5 and loaded.sizes == (3, 5, 2)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert all(p.requires_grad for p in loaded.parameters())


def test_built_in_modules_and_tied_weights(tmp_path):
    first = nn.Linear(4, 4)
    model = nn.Sequential(first, nn.BatchNorm1d(4), nn.Tanh(), nn.Dropout(0.3), nn.Flatten(),
                          nn.Unflatten(1, (2, 2)))
    model.first_layers = [first]  # the same module reached twice
    model(ffnn.randn(6, 4))  # move the running statistics
    ffnn.save(model, tmp_path / "seq.pt")
    loaded = ffnn.load(tmp_path / "seq.pt").eval()
    assert loaded.first_layers[0] is loaded[0]
    x = ffnn.randn(3, 4)
    np.testing.assert_array_equal(loaded(x).numpy(), model.eval()(x).numpy())


def test_tensors_lists_tuples_and_file_objects():
    buffer = io.BytesIO()
    w = ffnn.randn(3, requires_grad=True)
    p = nn.Parameter(ffnn.ones(2))
    ffnn.save({"w": w, "pair": (w, 3), "items": [p, None, True], 5: "int key"}, buffer)
    buffer.seek(0)
    loaded = ffnn.load(buffer)
    assert loaded["pair"][0] is loaded["w"] and loaded["pair"][1] == 3
    np.testing.assert_array_equal(loaded["w"].numpy(), w.numpy())
    assert loaded["w"].requires_grad and isinstance(loaded["items"][0], nn.Parameter)
    assert loaded["items"][1:] == [None, True] and loaded[5] == "int key"


def test_both_argument_orders_are_told_apart(tmp_path):
    model, optimizer, _ = _trained()
    ffnn.save(tmp_path / "ffnn.ckpt", model, optimizer, metadata={"epoch": 2})
    checkpoint = ffnn.load(tmp_path / "ffnn.ckpt", model=Net())
    assert isinstance(checkpoint, ffnn.io.Checkpoint) and checkpoint.metadata["epoch"] == 2
    ffnn.save(model, tmp_path / "torch.pt")
    assert isinstance(ffnn.load(tmp_path / "torch.pt"), Net)
    ffnn.save(str(tmp_path / "a.pt"), str(tmp_path / "b.pt"))  # a string saved into b.pt
    assert ffnn.load(tmp_path / "b.pt") == str(tmp_path / "a.pt")
    assert isinstance(ffnn.load(tmp_path / "torch.pt", "cpu"), Net)  # torch.load(f, 'cpu')


def test_unsavable_and_unloadable(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save obj\['f'\]: values of type function"):
        ffnn.save({"f": lambda: 1}, tmp_path / "x.pt")
    with pytest.raises(TypeError, match="second argument must be a path"):
        ffnn.save({"a": 1}, 42)
    with pytest.raises(AssertionError, match="CPU only"):
        ffnn.save({"a": 1}, tmp_path / "ok.pt") or ffnn.load(tmp_path / "ok.pt",
                                                             map_location="cuda:0")
    ffnn.load(tmp_path / "ok.pt", map_location=lambda storage, location: storage)
    ffnn.load(tmp_path / "ok.pt", map_location={"cuda:0": "cpu"})


def test_a_module_class_the_program_does_not_define_is_refused(tmp_path):
    model, _, _ = _trained()
    ffnn.save(model, tmp_path / "m.pt")
    tensors, meta = ffnn.io.safefile.read_file(tmp_path / "m.pt")
    meta["object"]["class"] = "os:system"
    ffnn.io.safefile.write_file(tmp_path / "evil.pt", tensors, meta)
    with pytest.raises(ffnn.CheckpointError, match="'os:system' is not an ffnn.nn.Module"):
        ffnn.load(tmp_path / "evil.pt")
    meta["object"]["class"] = "not_imported_package.models:Net"
    ffnn.io.safefile.write_file(tmp_path / "missing.pt", tensors, meta)
    with pytest.raises(ffnn.CheckpointError, match="not defined in the running program"):
        ffnn.load(tmp_path / "missing.pt")
    import sys

    assert "not_imported_package" not in sys.modules


def _tied_state_dict_after_load(lib):
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = lib.nn.Embedding(5, 3)
            self.dec = lib.nn.Linear(3, 5)
            self.dec.weight = self.enc.weight

    buffer = io.BytesIO()
    lib.save(Tied().state_dict(), buffer)
    buffer.seek(0)
    state = lib.load(buffer)
    state["enc.weight"].add_(1.0)  # one memory under two keys, as torch's storages
    return (state["enc.weight"] is state["dec.weight"],
            lib.equal(state["enc.weight"], state["dec.weight"]),
            state["enc.weight"].data_ptr() == state["dec.weight"].data_ptr(),
            state["dec.bias"].data_ptr() == state["dec.weight"].data_ptr())


def test_tensors_sharing_memory_load_sharing_it_as_torchs():
    torch = pytest.importorskip("torch")
    assert _tied_state_dict_after_load(ffnn) == _tied_state_dict_after_load(torch)
