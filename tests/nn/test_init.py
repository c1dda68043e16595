"""nn.init: bounds and standard deviations of each scheme, determinism under a generator."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ffnn
from ffnn import nn
from ffnn.nn import init

FAN_OUT, FAN_IN = 300, 200


def weight():
    return nn.Parameter(np.empty((FAN_OUT, FAN_IN), np.float32))


def test_xavier_uniform():
    w = init.xavier_uniform_(weight(), gain=2.0)
    bound = 2.0 * math.sqrt(6 / (FAN_IN + FAN_OUT))
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert w.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


def test_xavier_normal():
    w = init.xavier_normal_(weight())
    assert w.data.std() == pytest.approx(math.sqrt(2 / (FAN_IN + FAN_OUT)), rel=0.02)
    assert abs(w.data.mean()) < 0.01


@pytest.mark.parametrize("mode, fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT)])
def test_kaiming_uniform(mode, fan):
    w = init.kaiming_uniform_(weight(), mode=mode, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / fan)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert w.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)


@pytest.mark.parametrize("mode, fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT)])
def test_kaiming_normal(mode, fan):
    w = init.kaiming_normal_(weight(), a=0.2, mode=mode)
    gain = math.sqrt(2 / (1 + 0.2**2))
    assert w.data.std() == pytest.approx(gain / math.sqrt(fan), rel=0.02)


def test_constant_fills():
    assert (init.zeros_(weight()).data == 0).all()
    assert (init.ones_(weight()).data == 1).all()
    assert (init.constant_(weight(), 0.25).data == 0.25).all()


def test_normal_and_uniform():
    w = init.normal_(weight(), mean=1.5, std=0.5)
    assert w.data.mean() == pytest.approx(1.5, abs=0.01)
    assert w.data.std() == pytest.approx(0.5, rel=0.02)
    u = init.uniform_(weight(), -2.0, 3.0)
    assert u.data.min() >= -2.0 and u.data.max() < 3.0
    assert u.data.mean() == pytest.approx(0.5, abs=0.02)
    assert u.dtype == np.float32


@pytest.mark.parametrize("fn", [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_,
                                init.kaiming_normal_, init.normal_, init.uniform_])
def test_same_generator_seed_same_values(fn):
    a = fn(weight(), generator=ffnn.Generator(42))
    b = fn(weight(), generator=ffnn.Generator(42))
    c = fn(weight(), generator=ffnn.Generator(43))
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, c.data)
    ffnn.manual_seed(1)
    d = fn(weight())
    ffnn.manual_seed(1)
    np.testing.assert_array_equal(d.data, fn(weight()).data)


def test_calculate_gain_matches_torch():
    import torch

    for name, param in [("relu", None), ("tanh", None), ("linear", None), ("sigmoid", None),
                        ("leaky_relu", None), ("leaky_relu", 0.3), ("leaky_relu", 1),
                        ("selu", None), ("conv_transpose2d", None)]:
        ours, theirs = init.calculate_gain(name, param), torch.nn.init.calculate_gain(name, param)
        assert ours == theirs and type(ours) is type(theirs)  # print(gain) shows 1, as torch
    for name, param in [("identity", None), ("leaky_relu", True), ("leaky_relu", "0.1")]:
        for lib_init in (init, torch.nn.init):
            with pytest.raises(ValueError):
                lib_init.calculate_gain(name, param)


def test_calculate_correct_fan_as_torch():
    import torch

    for shape, mode in [((4, 7), "fan_in"), ((4, 7, 3), "fan_out"), ((5, 2), "FAN_OUT")]:
        assert init._calculate_correct_fan(ffnn.empty(*shape), mode) == \
            torch.nn.init._calculate_correct_fan(torch.empty(*shape), mode)


def test_init_errors():
    with pytest.raises(ValueError, match=r"at least 2 dimensions. Received: shape \(3,\)"):
        init.xavier_uniform_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'. Received: mode='x'"):
        init.kaiming_uniform_(weight(), mode="x")
    with pytest.raises(ValueError, match="unsupported nonlinearity. Received: 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(4, 4), (3, 6), (6, 3), (4, 2, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns_as_torch(shape):
    ours = ffnn.nn.init.orthogonal_(ffnn.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    theirs = torch.nn.init.orthogonal_(torch.empty(*shape), gain=2.0).numpy()
    theirs = theirs.reshape(shape[0], -1)
    small = min(ours.shape)
    gram = ours @ ours.T if ours.shape[0] == small else ours.T @ ours
    their_gram = theirs @ theirs.T if theirs.shape[0] == small else theirs.T @ theirs
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    np.testing.assert_allclose(their_gram, 4.0 * np.eye(small), atol=1e-5)


@pytest.mark.parametrize("name, args", [("uniform", (-0.1, 0.1)), ("normal", (0.0, 0.02)),
                                        ("constant", (0.3,)), ("xavier_uniform", ()),
                                        ("xavier_normal", ()), ("kaiming_uniform", ()),
                                        ("kaiming_normal", ()), ("orthogonal", ()),
                                        ("eye", ())])
def test_deprecated_names_warn_and_fill_as_the_underscore_forms(name, args):
    for lib in (torch, ffnn):
        with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated"):
            getattr(lib.nn.init, name)(lib.empty(3, 5), *args)
    ffnn.manual_seed(0)
    old = getattr(ffnn.nn.init, name)
    with pytest.warns(FutureWarning):
        a = old(ffnn.empty(3, 5), *args).numpy().copy()
    ffnn.manual_seed(0)
    b = getattr(ffnn.nn.init, name + "_")(ffnn.empty(3, 5), *args).numpy()
    np.testing.assert_array_equal(a, b)
