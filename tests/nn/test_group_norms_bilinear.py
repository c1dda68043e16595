"""GroupNorm, InstanceNorm1d (with and without running statistics), Bilinear and Dropout1d
against torch (float64): outputs, gradients of the input and parameters, second derivatives,
running statistics, state_dict names, errors."""

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close


def _copy_parameters(ours, theirs) -> None:
    """torch's module's parameters and buffers into ours (same names)."""
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict({k: ffnn.tensor(v) for k, v in state.items()})


def _run(lib, module, inputs, weights):
    """Outputs, and d/d(inputs, parameters) of Σ w·y and of its gradients' squares."""
    leaves = [lib.tensor(x, requires_grad=True) for x in inputs]
    out = module(*leaves)
    loss = (out * lib.tensor(weights)).sum()
    params = [p for p in module.parameters()]
    first = lib.autograd.grad(loss, leaves + params, create_graph=True)
    second = lib.autograd.grad(sum((g * g).sum() for g in first), leaves + params,
                               allow_unused=True)
    second = [np.zeros(tuple(t.shape)) if g is None else g.detach().numpy()
              for g, t in zip(second, leaves + params)]
    return [out.detach().numpy()] + [g.detach().numpy() for g in first] + second


def _against_torch(make, inputs, train=True):
    theirs = make(torch).double()
    ours = make(ffnn).double()
    _copy_parameters(ours, theirs)
    with torch.no_grad():  # parameters away from their initial ones and zeros
        for p in theirs.parameters():
            p.add_(torch.linspace(-0.3, 0.4, p.numel(), dtype=torch.float64).reshape(p.shape))
    _copy_parameters(ours, theirs)
    ours.train(train), theirs.train(train)
    rng = np.random.default_rng(0)
    shape = make(torch).double()(*[torch.tensor(x) for x in inputs]).shape
    weights = rng.standard_normal(tuple(shape))
    for a, b in zip(_run(ffnn, ours, inputs, weights), _run(torch, theirs, inputs, weights)):
        assert_close(a, b)
    return ours, theirs


@pytest.mark.parametrize("shape, groups", [((4, 6), 3), ((3, 6, 5), 2), ((2, 4, 3, 2), 4),
                                           ((3, 6, 5), 1)])
@pytest.mark.parametrize("affine, bias", [(True, True), (False, True), (True, False)])
def test_group_norm_matches_torch(shape, groups, affine, bias):
    x = np.random.default_rng(1).standard_normal(shape) * 3 + 1
    ours, theirs = _against_torch(
        lambda lib: lib.nn.GroupNorm(groups, shape[1], eps=1e-4, affine=affine, bias=bias), [x])
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize("track", [False, True])
@pytest.mark.parametrize("affine, bias", [(False, True), (True, True), (True, False)])
def test_instance_norm_matches_torch_and_tracks_its_running_statistics(affine, bias, track):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 7)) * 2 - 1
    ours, theirs = _against_torch(
        lambda lib: lib.nn.InstanceNorm1d(3, momentum=0.3, affine=affine,
                                          track_running_stats=track, bias=bias), [x])
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if track:
        for name in ("running_mean", "running_var"):
            assert_close(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), what=name)
        assert not np.allclose(ours.running_mean.numpy(), 0)  # the call moved them
        x_eval = rng.standard_normal((2, 3, 5))
        ours.eval(), theirs.eval()  # normalised by the running statistics now
        assert_close(ours(ffnn.tensor(x_eval)).detach().numpy(),
                     theirs(torch.tensor(x_eval)).detach().numpy(), what="eval output")


def test_instance_norm_takes_an_unbatched_input_and_eval_without_statistics():
    x = np.random.default_rng(3).standard_normal((3, 6))
    _against_torch(lambda lib: lib.nn.InstanceNorm1d(3, affine=True), [x])
    _against_torch(lambda lib: lib.nn.InstanceNorm1d(3), [x], train=False)


@pytest.mark.parametrize("lead", [(5,), (2, 3), ()])
def test_bilinear_matches_torch(lead):
    rng = np.random.default_rng(4)
    x1, x2 = rng.standard_normal(lead + (3,)), rng.standard_normal(lead + (4,))
    _against_torch(lambda lib: lib.nn.Bilinear(3, 4, 2), [x1, x2])
    _against_torch(lambda lib: lib.nn.Bilinear(3, 4, 5, bias=False), [x1, x2])


def test_bilinear_initialisation_has_torchs_bound():
    layer = ffnn.nn.Bilinear(16, 3, 200)
    weight = layer.weight.detach().numpy()
    assert weight.shape == (200, 16, 3) and layer.bias.shape == (200,)
    assert np.abs(weight).max() <= 0.25 and np.abs(weight).max() > 0.24  # U(-1/4, 1/4)
    assert abs(weight.mean()) < 0.25 / np.sqrt(weight.size) * 6


def test_dropout1d_drops_whole_channels_and_scales_the_rest():
    ffnn.manual_seed(0)
    x = ffnn.ones(50, 40, 7, requires_grad=True)
    layer = ffnn.nn.Dropout1d(0.3)
    y = layer(x)
    values = y.detach().numpy()
    per_channel = values[:, :, :1]
    assert np.all(values == per_channel)  # one decision a channel
    assert set(np.unique(values)) == {0.0, np.float32(1 / 0.7)}
    dropped = (per_channel == 0).mean()
    assert abs(dropped - 0.3) < 5 * np.sqrt(0.3 * 0.7 / 2000)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # dL/dx = m/(1 - p)
    layer.eval()
    assert layer(x) is x
    unbatched = ffnn.nn.functional.dropout1d(ffnn.ones(40, 3), 0.5)
    assert np.all(unbatched.numpy() == unbatched.numpy()[:, :1])


def test_errors_name_the_problem():
    with pytest.raises(ValueError,
                       match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        ffnn.nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        ffnn.nn.functional.group_norm(ffnn.ones(2, 6), 4)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        ffnn.nn.InstanceNorm1d(3)(ffnn.ones(2, 3, 1))
    with pytest.raises(ValueError, match="pass running_mean and running_var"):
        ffnn.nn.functional.instance_norm(ffnn.ones(2, 3, 4), use_input_stats=False)
    with pytest.raises(ValueError, match="to match num_features"):
        ffnn.nn.InstanceNorm1d(4, affine=True)(ffnn.ones(2, 3, 5))
    with pytest.raises(RuntimeError, match="input1 size does not match weight size"):
        ffnn.nn.Bilinear(3, 4, 2)(ffnn.ones(5, 2), ffnn.ones(5, 4))
    with pytest.raises(RuntimeError, match="batch dimensions do not match"):
        ffnn.nn.Bilinear(3, 4, 2)(ffnn.ones(5, 3), ffnn.ones(6, 4))
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        ffnn.nn.Dropout1d()(ffnn.ones(4))
    with pytest.raises(ValueError, match="between 0 and 1"):
        ffnn.nn.Dropout1d(1.5)
