"""Devices and the environment: ``ffnn.device``, ``.to(device)``, ``cuda``/``mps`` queries,
torch's error for a GPU, default dtype/device/tensor type, thread count."""

import numpy as np
import pytest
import torch

import ffnn
import ffnn.nn as nn
from ffnn.device import DeviceUnavailableError


def test_device_objects_as_torch():
    for spec in ("cpu", "cuda", "cuda:1", "mps"):
        ours, theirs = ffnn.device(spec), torch.device(spec)
        assert (str(ours), repr(ours), ours.type, ours.index) == (
            str(theirs), repr(theirs), theirs.type, theirs.index)
    assert ffnn.device("cuda", 0) == ffnn.device("cuda:0") != ffnn.device("cpu")
    assert ffnn.device(ffnn.device("cpu")) == ffnn.device("cpu")
    assert len({ffnn.device("cpu"), ffnn.device("cpu")}) == 1
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        ffnn.device("gpu")
    with pytest.raises(RuntimeError, match="Invalid device string"):
        ffnn.device("cuda:x")


def test_tensors_live_on_the_cpu():
    t = ffnn.ones(2)
    assert t.device == ffnn.device("cpu") and str(t.device) == "cpu" and not t.is_cuda
    assert t.cpu() is t
    assert t.to("cpu") is t and t.to(ffnn.device("cpu")) is t and t.to(t.device) is t


def test_the_usual_device_choice_picks_the_cpu():
    device = ffnn.device("cuda" if ffnn.cuda.is_available() else
                         "mps" if ffnn.backends.mps.is_available() else "cpu")
    assert device.type == "cpu"
    assert not ffnn.cuda.is_available() and ffnn.cuda.device_count() == 0
    assert not ffnn.backends.mps.is_available() and not ffnn.backends.mps.is_built()
    assert not ffnn.accelerator.is_available() and ffnn.accelerator.current_accelerator() is None
    ffnn.cuda.manual_seed(0)
    ffnn.cuda.manual_seed_all(0)
    ffnn.backends.cudnn.deterministic = True
    ffnn.backends.cudnn.benchmark = False


@pytest.mark.parametrize("call", [
    lambda: ffnn.zeros(2).cuda(),
    lambda: ffnn.zeros(2).to("cuda"),
    lambda: ffnn.zeros(2).to("cuda:0"),
    lambda: ffnn.zeros(2).to(ffnn.device("mps")),
    lambda: ffnn.zeros(2).to(device="cuda"),
    lambda: ffnn.tensor([1.0], device="cuda"),
    lambda: nn.Linear(2, 2).cuda(),
    lambda: nn.Linear(2, 2).to("cuda"),
    lambda: ffnn.set_default_device("cuda"),
    lambda: ffnn.cuda.current_device(),
])
def test_a_gpu_raises_torchs_error(call):
    with pytest.raises(AssertionError, match="CPU only.*not compiled with CUDA|MPS"):
        call()
    with pytest.raises(RuntimeError):  # the same error also reads as a RuntimeError
        call()
    assert issubclass(DeviceUnavailableError, AssertionError)


def test_module_to_device_and_dtype():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    assert model.to("cpu") is model and model.to(ffnn.device("cpu")) is model
    model.to("cpu", ffnn.float64)
    assert all(p.dtype == ffnn.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64
    model.to(device="cpu", dtype=ffnn.float32)
    assert all(p.dtype == ffnn.float32 for p in model.parameters())
    model.to(ffnn.zeros(1, dtype=ffnn.float64))
    assert model[0].weight.dtype == ffnn.float64


def test_default_dtype_and_tensor_type():
    ffnn.set_default_tensor_type(ffnn.DoubleTensor)
    assert ffnn.get_default_dtype() == ffnn.float64 and ffnn.tensor([1.0]).dtype == ffnn.float64
    assert nn.Linear(2, 2).weight.dtype == ffnn.float64
    ffnn.set_default_tensor_type("torch.FloatTensor")
    assert ffnn.zeros(1).dtype == ffnn.float32
    with pytest.raises(TypeError, match="only floating-point types"):
        ffnn.set_default_tensor_type(ffnn.LongTensor)
    ffnn.set_default_dtype(ffnn.float64)
    assert ffnn.randn(2).dtype == ffnn.float64


def test_default_device_and_threads():
    ffnn.set_default_device("cpu")
    ffnn.set_default_device(ffnn.device("cpu"))
    assert ffnn.get_default_device() == ffnn.device("cpu")
    before = ffnn.get_num_threads()
    ffnn.set_num_threads(1)
    assert ffnn.get_num_threads() == 1
    ffnn.set_num_threads(before)
    with pytest.raises(ValueError, match="positive integer. Received: 0"):
        ffnn.set_num_threads(0)


def test_generator_takes_a_device_as_torch():
    assert ffnn.Generator(device="cpu").manual_seed(3).initial_seed() == 3
    assert ffnn.Generator(ffnn.device("cpu")).initial_seed() >= 0
    assert ffnn.Generator(7).initial_seed() == 7
    a = ffnn.randn(3, generator=ffnn.Generator("cpu").manual_seed(1))
    b = ffnn.randn(3, generator=ffnn.Generator(1))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(AssertionError, match="CPU only"):
        ffnn.Generator(device="cuda")
