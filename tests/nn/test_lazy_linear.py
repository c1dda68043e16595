"""LazyLinear: in_features from the first input or a loaded state, the same Parameter
objects materialised in place (an optimizer made before trains them), Linear's initialisation,
and a Linear after (class, printout, the native chain)."""

import math

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn


def test_prints_as_torchs_before_and_after_its_first_input():
    for make in (lambda lib: lib.nn.LazyLinear(5), lambda lib: lib.nn.LazyLinear(3, bias=False)):
        ours, theirs = make(ffnn), make(torch)
        assert repr(ours) == repr(theirs)
        ours(ffnn.ones(2, 7))
        theirs(torch.ones(2, 7))
        assert repr(ours) == repr(theirs) and type(ours) is nn.Linear


def test_a_network_written_with_lazy_layers_trains_with_an_optimizer_made_first(rng):
    ffnn.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.LazyLinear(32), nn.ReLU(), nn.LazyLinear(4))
    params = list(net.parameters())
    optimizer = ffnn.optim.Adam(net.parameters(), lr=0.01)
    x = ffnn.tensor(rng.standard_normal((64, 2, 3, 5)).astype(np.float32))
    y = ffnn.tensor(rng.integers(0, 4, 64))
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert [p.shape for p in params] == [(32, 30), (32,), (4, 32), (4,)]
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert losses[-1] < 0.5 * losses[0]
    bound = 1 / math.sqrt(30)  # Linear's: U(-1/√in, 1/√in) for the weight and the bias
    fresh = nn.LazyLinear(32)
    fresh(ffnn.ones(1, 30))
    weight = fresh.weight.numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert np.abs(fresh.bias.numpy()).max() <= bound


def test_load_state_dict_gives_it_the_loaded_shapes(rng):
    theirs = torch.nn.Linear(6, 4, dtype=torch.float64)
    ours = nn.LazyLinear(4, dtype=ffnn.float64)
    ours.load_state_dict(theirs.state_dict())
    x = rng.standard_normal((3, 6))
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    np.testing.assert_allclose(ours(ffnn.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    nested = nn.Sequential(nn.LazyLinear(4), nn.Tanh())
    nested.load_state_dict({"0.weight": np.ones((4, 9)), "0.bias": np.zeros(4)})
    assert nested[0].in_features == 9 and nested[0].weight.dtype == ffnn.float32


def test_an_input_without_features_is_refused():
    with pytest.raises(ValueError, match="needs input with features"):
        nn.LazyLinear(3)(ffnn.tensor(2.0))
    with pytest.raises(ValueError, match="out_features must be a positive integer"):
        nn.LazyLinear(0)


def test_saved_before_its_first_input_it_comes_back_lazy(tmp_path):
    ffnn.save(tmp_path / "lazy.safetensors", nn.Sequential(nn.LazyLinear(3, bias=False)))
    loaded = ffnn.load(tmp_path / "lazy.safetensors").model
    assert type(loaded[0]) is nn.LazyLinear and loaded[0].bias is None
    assert loaded(ffnn.ones(2, 5)).shape == (2, 3) and loaded[0].in_features == 5
