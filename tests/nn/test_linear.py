"""Linear, Identity, Flatten: torch equivalence, default init statistics, generators, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from tests.helpers import check_layer


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [(5,), (2, 3)])
def test_linear_layer(bias, batch):
    check_layer(lambda: nn.Linear(4, 3, bias=bias), (*batch, 4), (*batch, 3),
                lambda: torch.nn.Linear(4, 3, bias=bias))


def test_linear_default_init_statistics():
    fan_in, out = 400, 300
    layer = nn.Linear(fan_in, out)
    bound = 1 / math.sqrt(fan_in)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.95 * bound  # fills the interval, not a narrower one
    # U(-b, b) has variance b²/3; 120,000 draws pin it within ~1%
    assert layer.weight.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert abs(layer.weight.data.mean()) < 0.01 * bound
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32


def test_linear_generator_reproducible_and_global_seed():
    a = nn.Linear(5, 4, generator=ffnn.Generator(3))
    b = nn.Linear(5, 4, generator=ffnn.Generator(3))
    c = nn.Linear(5, 4, generator=ffnn.Generator(4))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    ffnn.manual_seed(9)
    d = nn.Linear(5, 4)
    ffnn.manual_seed(9)
    np.testing.assert_array_equal(d.weight.data, nn.Linear(5, 4).weight.data)


def test_linear_dtype_argument():
    layer = nn.Linear(2, 3, dtype=ffnn.float64)
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64


def test_linear_shape_error_names_layer_and_shape():
    layer = nn.Linear(4, 2)
    with pytest.raises(ValueError) as info:
        layer(ffnn.zeros(32, 3))
    assert str(info.value) == (
        "Linear(in_features=4, out_features=2) got input with 3 features (shape (32, 3))"
    )


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_linear_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match=f"in_features must be a positive integer. "
                                         f"Received: in_features={bad!r}"):
        nn.Linear(bad, 2)


def test_linear_repr_like_torch():
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))


def test_identity_and_flatten():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    check_layer(nn.Identity, (2, 3), (2, 3), torch.nn.Identity)
    check_layer(nn.Flatten, (2, 3, 4), (2, 12), torch.nn.Flatten)
    check_layer(lambda: nn.Flatten(0, 1), (2, 3, 4), (6, 4), lambda: torch.nn.Flatten(0, 1))
    assert nn.Flatten()(ffnn.tensor(x)).shape == torch.nn.Flatten()(torch.tensor(x)).shape
