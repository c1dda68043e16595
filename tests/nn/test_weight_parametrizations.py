"""Weight and spectral normalisation (``nn.utils.parametrizations`` and the older hook forms)
and ``nn.utils.parametrize`` against torch (float64): state_dict names, outputs and the
originals' gradients over a few SGD steps (power iterations included), eval mode, removal;
a parametrization of one's own, ``cached()``, errors."""

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close

FORMS = {
    "weight_norm": lambda lib, m: lib.nn.utils.parametrizations.weight_norm(m),
    "weight_norm_dim1": lambda lib, m: lib.nn.utils.parametrizations.weight_norm(m, dim=1),
    "weight_norm_whole": lambda lib, m: lib.nn.utils.parametrizations.weight_norm(m, dim=None),
    "spectral_norm": lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(m),
    "spectral_norm_3_iterations": lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(
        m, n_power_iterations=3),
    "old_weight_norm": lambda lib, m: lib.nn.utils.weight_norm(m),
    "old_weight_norm_whole": lambda lib, m: lib.nn.utils.weight_norm(m, dim=None),
    "old_spectral_norm": lambda lib, m: lib.nn.utils.spectral_norm(m),
    "old_spectral_norm_dim1": lambda lib, m: lib.nn.utils.spectral_norm(m, dim=1),
}


def _net(lib, form: str):
    nn = lib.nn
    layer = FORMS[form](lib, nn.Linear(4, 5).double())
    return nn.Sequential(layer, nn.Tanh(), nn.Linear(5, 2).double())


def _train(lib, net, steps: int = 4):
    rng = np.random.default_rng(0)
    x, y = lib.tensor(rng.standard_normal((8, 4))), lib.tensor(rng.standard_normal((8, 2)))
    optimizer = lib.optim.SGD(net.parameters(), lr=0.2)
    found = []
    for _ in range(steps):
        optimizer.zero_grad()
        out = net(x)
        ((out - y) ** 2).mean().backward()
        found.append(out.detach().numpy())
        found += [p.grad.numpy().copy() for p in net.parameters()]
        optimizer.step()
    net.eval()
    found.append(net(x).detach().numpy())
    return found + [v.detach().numpy() for v in net.state_dict().values()]


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("form", FORMS)
def test_normalised_weights_train_as_torchs(form):
    theirs, ours = _net(torch, form), _net(ffnn, form)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: ffnn.tensor(v.detach().numpy().copy()) for k, v in state.items()})
    for a, b in zip(_train(ffnn, ours), _train(torch, theirs)):
        assert_close(a, b)


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("form", ["weight_norm", "spectral_norm", "old_weight_norm",
                                  "old_spectral_norm"])
def test_removal_leaves_torchs_weight(form):
    theirs, ours = _net(torch, form), _net(ffnn, form)
    ours.load_state_dict({k: ffnn.tensor(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})
    _train(ffnn, ours, 2), _train(torch, theirs, 2)
    for lib, net in ((ffnn, ours), (torch, theirs)):
        if form.startswith("old_"):
            getattr(lib.nn.utils, "remove_" + form[4:])(net[0])
        else:
            lib.nn.utils.parametrize.remove_parametrizations(net[0], "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert type(ours[0]) is ffnn.nn.Linear
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
        assert_close(a.numpy(), b.detach().numpy())


class Symmetric(ffnn.nn.Module):
    """X ↦ triu(X) + triu(X, 1)ᵀ, with a right inverse (the upper triangle)."""

    def forward(self, x):
        return x.triu() + x.triu(1).T

    def right_inverse(self, a):
        return a.triu()


def test_a_parametrization_of_ones_own():
    parametrize = ffnn.nn.utils.parametrize
    layer = ffnn.nn.Linear(3, 3).double()
    original = layer.weight
    parametrize.register_parametrization(layer, "weight", Symmetric())
    assert type(layer).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(layer) is ffnn.nn.Linear
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    assert layer.parametrizations.weight.original is original  # the same Parameter
    np.testing.assert_array_equal(layer.weight.numpy(), layer.weight.numpy().T)
    assert not parametrize.is_parametrized(ffnn.nn.Linear(3, 3))  # its class is untouched
    value = np.arange(9.0).reshape(3, 3)
    layer.weight = ffnn.tensor(value)  # stored through right_inverse
    np.testing.assert_array_equal(original.numpy(), np.triu(value))
    np.testing.assert_array_equal(layer.weight.numpy(), np.triu(value) + np.triu(value, 1).T)
    layer(ffnn.ones(2, 3)).sum().backward()
    expected = np.triu(np.full((3, 3), 2.0)) + np.triu(np.full((3, 3), 2.0), 1)
    np.testing.assert_array_equal(original.grad.numpy(), expected)  # both triangles' share
    with parametrize.cached():
        assert layer.weight is layer.weight
    assert layer.weight is not layer.weight
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert type(layer) is ffnn.nn.Linear and "parametrizations" not in layer._modules
    np.testing.assert_array_equal(layer.weight.numpy(), np.triu(value))


def test_errors_name_the_problem():
    utils = ffnn.nn.utils
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        utils.parametrize.register_parametrization(ffnn.nn.Linear(2, 2), "kernel", Symmetric())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        utils.parametrize.remove_parametrizations(ffnn.nn.Linear(2, 2), "weight")
    with pytest.raises(ValueError, match="n_power_iterations to be positive"):
        utils.parametrizations.spectral_norm(ffnn.nn.Linear(2, 2), n_power_iterations=0)
    layer = utils.parametrizations.weight_norm(ffnn.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        utils.parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    with pytest.warns(FutureWarning):
        hooked = utils.weight_norm(ffnn.nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        utils.weight_norm(hooked)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        utils.remove_spectral_norm(hooked)
