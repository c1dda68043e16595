"""A mixed-precision training loop runs unchanged: autocast and GradScaler behave as torch's do
without CUDA (the block runs as is; the scaler is disabled and passes everything through)."""

import numpy as np
import pytest

import ffnn
import ffnn.nn as nn
from ffnn.cuda.amp import GradScaler as CudaGradScaler
from ffnn.cuda.amp import autocast as cuda_autocast


def _train(use_amp: bool, steps: int = 5) -> np.ndarray:
    ffnn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    optimizer = ffnn.optim.SGD(model.parameters(), lr=0.1)
    scaler = ffnn.amp.GradScaler(enabled=use_amp)
    x, y = ffnn.randn(16, 3), ffnn.randn(16, 1)
    for _ in range(steps):
        optimizer.zero_grad()
        with ffnn.autocast(device_type="cpu", dtype=ffnn.float16, enabled=use_amp):
            loss = nn.functional.mse_loss(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        scaler.step(optimizer)
        scaler.update()
    return model(x).detach().numpy()


def test_an_amp_loop_trains_exactly_as_the_plain_loop():
    np.testing.assert_array_equal(_train(True), _train(False))


def test_scaler_and_autocast_surface():
    scaler = CudaGradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    scaler.load_state_dict({})
    loss = ffnn.tensor(2.0)
    assert scaler.scale(loss) is loss

    @cuda_autocast()
    def double(t):
        return t * 2

    assert double(ffnn.ones(2)).dtype == ffnn.float32


def test_autocast_to_bfloat16_runs_in_the_tensors_dtype_and_casts_to_it_are_refused():
    import torch

    model = ffnn.nn.Linear(3, 2)
    x = ffnn.ones(4, 3)
    expected = model(x).detach().numpy()
    with ffnn.autocast(device_type="cpu", dtype=ffnn.bfloat16):
        inside = model(x)
    assert inside.dtype == np.float32
    np.testing.assert_array_equal(inside.detach().numpy(), expected)
    assert ffnn.bfloat16.itemsize == torch.bfloat16.itemsize
    assert ffnn.bfloat16.is_floating_point == torch.bfloat16.is_floating_point
    for cast in (lambda: model.to(ffnn.bfloat16), lambda: model.bfloat16(),
                 lambda: x.bfloat16(), lambda: x.to("bfloat16"),
                 lambda: ffnn.zeros(2, dtype=ffnn.bfloat16),
                 lambda: ffnn.tensor([1.0], dtype=torch.bfloat16)):
        with pytest.raises(TypeError, match="bfloat16 is none of them"):
            cast()
    assert model.weight.dtype == np.float32  # nothing was cast
