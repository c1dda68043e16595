"""More of torch's surface as programs meet it, against torch: a factor kept only for the
other factor's gradient (changing ``h`` in place after ``y = h * 2`` is allowed), a module
registered under two names in ``state_dict`` and ``named_*(remove_duplicate=False)``,
optimizers built from ``named_parameters()``, ``torch.pdist``, the sampler's ``weights``,
factories' keyword sizes, ``arange(end=)`` and the reflected ``|``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn


def _changed_after_use(lib, how):
    a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    h = a * 1
    if how == "h * 2":
        y = h * 2
    elif how == "h / 2":
        y = h / 2
    elif how == "constant * h":
        y = lib.tensor([3.0, 4.0], dtype=lib.float64) * h
    elif how == "h @ constant":
        y = h.unsqueeze(0) @ lib.ones(2, 3, dtype=lib.float64)
    else:  # h * h keeps h for both gradients: torch's error
        y = h * h
    h.add_(1.0)
    try:
        y.sum().backward()
    except RuntimeError:
        return "raises"
    return a.grad.tolist()


@pytest.mark.parametrize("how", ["h * 2", "h / 2", "constant * h", "h @ constant", "h * h"])
def test_an_in_place_change_after_use_raises_only_where_torchs_does(how):
    assert _changed_after_use(ffnn, how) == _changed_after_use(torch, how)


def _registered_twice(lib):
    nn = lib.nn

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = self.a

    model = Tied()
    keys = list(model.state_dict())
    listed = list(nn.ModuleList([model.a, model.a]).state_dict())
    full = model.load_state_dict({k: lib.ones(v.shape) for k, v in model.state_dict().items()})
    partial = model.load_state_dict({"a.weight": lib.ones(2, 2), "a.bias": lib.ones(2)},
                                    strict=False)
    seq = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    seq.add_module("tied", seq[0])
    seq.add_module("tied_norm", seq[1])
    names = [[n for n, _ in seq.named_parameters(remove_duplicate=flag)] for flag in (1, 0)]
    names += [[n for n, _ in seq.named_modules(remove_duplicate=flag)] for flag in (1, 0)]
    names += [[n for n, _ in seq.named_buffers(remove_duplicate=flag)] for flag in (1, 0)]
    return (keys, listed, list(full.missing_keys), list(partial.missing_keys), names,
            [n for n, _ in seq.named_modules(prefix="net")])


def test_a_module_registered_under_two_names_is_listed_under_both_as_torch():
    assert _registered_twice(ffnn) == _registered_twice(torch)


def _named_optimizer(lib):
    lib.manual_seed(0)
    layer = lib.nn.Linear(2, 1).double()
    with lib.no_grad():
        layer.weight.copy_(lib.tensor([[0.5, -0.5]], dtype=lib.float64))
        layer.bias.fill_(0.1)
    found = []
    for make in (lambda p: lib.optim.SGD(p, lr=0.1, momentum=0.9),
                 lambda p: lib.optim.Adam(p, lr=0.1)):
        opt = make(layer.named_parameters())
        layer(lib.ones(3, 2, dtype=lib.float64)).sum().backward()
        opt.step()
        opt.zero_grad()
        found.append((opt.param_groups[0]["param_names"],
                      opt.state_dict()["param_groups"][0]["param_names"]))
    with pytest.raises(ValueError, match="with/without names"):
        lib.optim.SGD([("weight", layer.weight), layer.bias], lr=0.1)
    return found, layer.weight.tolist(), layer.bias.tolist()


def test_an_optimizer_takes_named_parameters_as_torch():
    ours, theirs = _named_optimizer(ffnn), _named_optimizer(torch)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-12)


def _surface(lib):
    z = lib.nn.functional.normalize(lib.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), dim=1)
    weights = np.array([1 / 3, 1 / 3, 1 / 3, 1.0])
    sampler = lib.utils.data.WeightedRandomSampler(weights, 4)
    return [lib.pdist(z, p=2).pow(2).mul(-2).exp().mean().log().item(),
            sampler.weights.tolist(), str(sampler.weights.dtype).replace("torch.", ""),
            *[tuple(t.shape) for t in (lib.zeros(size=(2, 3)), lib.ones(size=[4]),
                                       lib.empty(size=(1, 2)), lib.rand(size=(3,)),
                                       lib.randn(size=(2, 2)), lib.zeros(lib.tensor(3)))],
            lib.arange(end=4).tolist(),
            lib.randint_like(lib.ones(5), high=1).tolist(),
            (2 | lib.tensor([1, 4])).tolist(), (True | lib.tensor([False, True])).tolist()]


def test_names_keywords_and_operators_programs_use_as_torch():
    ours, theirs = _surface(ffnn), _surface(torch)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-6)
    assert ours[1:] == theirs[1:]
