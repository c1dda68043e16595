"""BatchNorm1d, LayerNorm, RMSNorm and Dropout layers against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from tests.helpers import assert_close, check_layer, copy_to_torch


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm1d_matches_torch_over_steps(momentum, affine, shape):
    ours = nn.BatchNorm1d(3, momentum=momentum, affine=affine).double()
    theirs = torch.nn.BatchNorm1d(3, momentum=momentum, affine=affine).double()
    if affine:
        ours.weight.data[:] = [0.5, 2.0, -1.0]
        ours.bias.data[:] = [0.1, 0.0, -0.3]
        copy_to_torch(ours, theirs)
    rng = np.random.default_rng(0)
    for step in range(3):
        x = 2.0 * rng.standard_normal(shape) + step
        xs, xt = ffnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ys, yt = ours(xs), theirs(xt)
        assert_close(ys.data, yt.detach().numpy(), what=f"step {step}")
        w = rng.standard_normal(shape)
        ys.backward(w)
        yt.backward(torch.from_numpy(w))
        assert_close(xs.grad, xt.grad.numpy(), what="input grad")
        for name, p in ours.named_parameters():
            assert_close(p.grad, dict(theirs.named_parameters())[name].grad.numpy(), what=name)
        assert_close(ours.running_mean, theirs.running_mean.numpy(), what="running_mean")
        assert_close(ours.running_var, theirs.running_var.numpy(), what="running_var (unbiased)")
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == step + 1
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    assert_close(ours(ffnn.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy())
    assert int(ours.num_batches_tracked) == 3  # eval does not count batches


def test_batchnorm1d_layer_helper():
    check_layer(lambda: nn.BatchNorm1d(4), (5, 4), (5, 4), lambda: torch.nn.BatchNorm1d(4))
    check_layer(lambda: nn.BatchNorm1d(2), (3, 2, 4), (3, 2, 4), lambda: torch.nn.BatchNorm1d(2))


def test_batchnorm1d_without_running_stats():
    ours = nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    theirs = torch.nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    x = np.random.default_rng(2).standard_normal((5, 3))
    assert_close(ours(ffnn.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy())
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("options", [{}, {"affine": False}, {"bias": False}])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm1d_in_eval_mode_matches_torch_and_finite_differences(shape, options):
    """In eval mode (a frozen batch norm being fine-tuned, an evaluation) the running
    statistics are constants: y = a x + c per channel (``ops.norms.RunningBatchNorm``); the
    output and the gradients of the input, γ and β follow torch's and finite differences,
    and the running statistics stay as they were."""
    from ffnn.gradcheck import central_differences

    rng = np.random.default_rng(len(shape) + len(options))
    ours = nn.BatchNorm1d(3, **options).double()
    theirs = torch.nn.BatchNorm1d(3, **options).double()
    ours.running_mean.data[:] = [0.5, -2.0, 3.0]
    ours.running_var.data[:] = [0.25, 4.0, 1e-3]
    for p in ours.parameters():
        p.data += rng.standard_normal(p.shape)
    copy_to_torch(ours, theirs)
    ours.eval()
    theirs.eval()
    x = 2.0 * rng.standard_normal(shape) + 1.0
    w = rng.standard_normal(shape)
    xs, xt = ffnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ys, yt = ours(xs), theirs(xt)
    assert_close(ys.data, yt.detach().numpy(), what="output")
    ys.backward(w)
    yt.backward(torch.from_numpy(w))
    assert_close(xs.grad, xt.grad.numpy(), what="input grad")
    torch_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, torch_params[name].grad.numpy(), what=name)

    def loss() -> float:
        return float((ours(ffnn.tensor(x)).data * w).sum())

    for value, grad in [(x, xs.grad)] + [(p.numpy(), p.grad) for p in ours.parameters()]:
        np.testing.assert_allclose(grad, central_differences(loss, value), rtol=1e-6,
                                   atol=1e-6)
    np.testing.assert_array_equal(ours.running_var.numpy(), [0.25, 4.0, 1e-3])


def test_batch_norm_in_evaluation_mode_needs_its_running_statistics():
    """As torch: F.batch_norm without running statistics and training=False raises,
    naming them."""
    import ffnn.nn.functional as F

    x = ffnn.randn(4, 3)
    with pytest.raises(RuntimeError, match="running_mean and running_var must be defined"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(RuntimeError, match="running_var=None"):
        F.batch_norm(x, np.zeros(3), None, training=False)
    with pytest.raises(RuntimeError, match="running_mean must be defined"):
        torch.nn.functional.batch_norm(torch.randn(4, 3), None, None, training=False)


def test_batchnorm1d_state_and_repr_like_torch():
    ours, theirs = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert ours.num_batches_tracked.dtype == np.int64 and ours.num_batches_tracked.shape == ()


def test_batchnorm1d_errors():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(num_features=3\) expects input of shape "
                                         r"\[N, 3\] or \[N, 3, L\]. Received: shape \(2, 4\)"):
        nn.BatchNorm1d(3)(ffnn.zeros(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(ffnn.zeros(1, 3))
    with pytest.raises(ValueError, match="positive integer. Received: 0"):
        nn.BatchNorm1d(0)


@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_layer(shape, normalized, affine):
    check_layer(lambda: nn.LayerNorm(normalized, elementwise_affine=affine), shape, shape,
                lambda: torch.nn.LayerNorm(normalized, elementwise_affine=affine))


def test_layer_norm_without_bias():
    check_layer(lambda: nn.LayerNorm(5, bias=False), (3, 5), (3, 5),
                lambda: torch.nn.LayerNorm(5, bias=False))


@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("eps", [None, 1e-5])
def test_rms_norm_layer(shape, normalized, eps):
    check_layer(lambda: nn.RMSNorm(normalized, eps=eps), shape, shape,
                lambda: torch.nn.RMSNorm(normalized, eps=eps))


def test_norm_reprs_like_torch():
    assert repr(nn.LayerNorm(4)) == repr(torch.nn.LayerNorm(4))
    assert repr(nn.LayerNorm(4, bias=False)) == repr(torch.nn.LayerNorm(4, bias=False))
    assert repr(nn.LayerNorm(4, elementwise_affine=False)) == repr(
        torch.nn.LayerNorm(4, elementwise_affine=False))
    assert repr(nn.RMSNorm(4)) == repr(torch.nn.RMSNorm(4))


def test_dropout_layer():
    layer = nn.Dropout(0.4, generator=ffnn.Generator(0))
    x = ffnn.tensor(np.ones((100, 100)))
    y = layer(x)
    assert abs((y.numpy() == 0).mean() - 0.4) < 0.02
    np.testing.assert_allclose(y.data[y.data != 0], 1 / 0.6)
    layer.eval()
    assert layer(x) is x
    a = nn.Dropout(0.4, generator=ffnn.Generator(1))(x)
    b = nn.Dropout(0.4, generator=ffnn.Generator(1))(x)
    np.testing.assert_array_equal(a.data, b.data)
    assert repr(nn.Dropout(0.4)) == repr(torch.nn.Dropout(0.4))
    with pytest.raises(ValueError, match="Received: p=-0.1"):
        nn.Dropout(-0.1)
    check_layer(nn.Dropout, (3, 4), (3, 4))


def test_batchnorm1d_without_bias_like_torch():
    check_layer(lambda: nn.BatchNorm1d(3, bias=False), (4, 3), (4, 3),
                lambda: torch.nn.BatchNorm1d(3, bias=False))
    assert repr(nn.BatchNorm1d(3, bias=False)) == repr(torch.nn.BatchNorm1d(3, bias=False))


@pytest.mark.parametrize("compiled", [True, False], ids=["kernels", "numpy"])
@pytest.mark.parametrize("norm", ["layer", "batch", "rms"])
def test_an_in_place_activation_after_a_norm_without_affine_trains_as_torch(norm, compiled,
                                                                          monkeypatch):
    """Without γ and β the NumPy path's output was its saved x̂ itself, so a ReLU(inplace=True)
    after it overwrote x̂ and backward() raised; torch keeps x̂ apart. Layer by layer (the
    one-node chain computes out of place anyway)."""
    from ffnn import accel
    from ffnn.nn import chain_call

    monkeypatch.setattr(accel, "enabled", compiled and accel.available)
    monkeypatch.setattr(chain_call, "call", lambda *args: None)
    makers = {"layer": lambda lib: lib.nn.LayerNorm(4, elementwise_affine=False),
              "batch": lambda lib: lib.nn.BatchNorm1d(4, affine=False),
              "rms": lambda lib: lib.nn.RMSNorm(4, eps=1e-6, elementwise_affine=False)}
    x = np.random.default_rng(0).standard_normal((6, 3))
    models = {}
    for lib in (torch, ffnn):
        lib.manual_seed(0)
        models[lib] = lib.nn.Sequential(lib.nn.Linear(3, 4), makers[norm](lib),
                                        lib.nn.ReLU(inplace=True), lib.nn.Linear(4, 2)).double()
    models[ffnn].load_state_dict({k: v.detach().numpy()
                                  for k, v in models[torch].state_dict().items()})
    grads = []
    for lib, model in models.items():
        inputs = lib.tensor(x, requires_grad=True)
        model(inputs).sum().backward()
        grads.append((inputs.grad.numpy(), model[0].weight.grad.numpy()))
    for theirs, ours in zip(*grads):
        assert_close(ours, theirs)
