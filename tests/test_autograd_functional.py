"""``torch.autograd.functional`` (``ffnn.autograd.functional``): jacobian, hessian, vjp, jvp,
vhp and hvp against torch's, float64, for one input and for tuples of inputs and outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn.autograd.functional import hessian, jacobian
from tests.helpers import assert_close

RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal(3), RNG.standard_normal((2, 3))
W = RNG.standard_normal((4, 3))
V_OUT, V_IN = np.array([1.0, -2.0, 0.5, 3.0]), np.array([0.3, -1.0, 2.0])


def _vector(lib, a, b):
    return (lib.tensor(W) @ a).tanh() * a.sum()


def _pair(lib, a, b):
    return (a.sin() * b).sum(1), (b**2).sum() * a.exp().sum()


def _scalar(lib, a, b):
    return (a.exp() * a.sin()).sum() + (a @ a) ** 2 + (b**3).sum() * a.sum()


CALLS = {
    "jacobian": lambda lib, AF: AF.jacobian(lambda a: _vector(lib, a, None), lib.tensor(X)),
    "jacobian_tuples": lambda lib, AF: AF.jacobian(lambda a, b: _pair(lib, a, b),
                                                   (lib.tensor(X), lib.tensor(Y))),
    "hessian": lambda lib, AF: AF.hessian(lambda a: _scalar(lib, a, a), lib.tensor(X)),
    "hessian_tuples": lambda lib, AF: AF.hessian(lambda a, b: _scalar(lib, a, b),
                                                 (lib.tensor(X), lib.tensor(Y[0]))),
    "vjp": lambda lib, AF: AF.vjp(lambda a: _vector(lib, a, None), lib.tensor(X),
                                  lib.tensor(V_OUT)),
    "jvp": lambda lib, AF: AF.jvp(lambda a: _vector(lib, a, None), lib.tensor(X),
                                  lib.tensor(V_IN)),
    "jvp_tuples": lambda lib, AF: AF.jvp(lambda a, b: _pair(lib, a, b),
                                         (lib.tensor(X), lib.tensor(Y)),
                                         (lib.tensor(V_IN), lib.tensor(2 * Y))),
    "vhp": lambda lib, AF: AF.vhp(lambda a: _scalar(lib, a, a), lib.tensor(X), lib.tensor(V_IN)),
    "hvp": lambda lib, AF: AF.hvp(lambda a: _scalar(lib, a, a), lib.tensor(X), lib.tensor(V_IN)),
}


def _flat(value) -> list:
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _flat(item)]
    return [value]


@pytest.mark.parametrize("name", CALLS)
def test_matches_torch(name):
    ours = _flat(CALLS[name](ffnn, ffnn.autograd.functional))
    theirs = _flat(CALLS[name](torch, torch.autograd.functional))
    assert len(ours) == len(theirs)
    for mine, torch_value in zip(ours, theirs):
        assert tuple(mine.shape) == tuple(torch_value.shape)
        assert not mine.requires_grad
        assert_close(mine.numpy(), torch_value.numpy())


def test_hessian_of_a_quadratic_form_is_the_symmetrised_matrix():
    a = RNG.standard_normal((4, 4))
    found = hessian(lambda x: x @ ffnn.tensor(a) @ x, ffnn.tensor(RNG.standard_normal(4)))
    assert_close(found.numpy(), a + a.T)


def test_create_graph_keeps_the_results_differentiable():
    x = ffnn.tensor(X, requires_grad=True)
    found = jacobian(lambda a: a.sin() * a.sum(), x, create_graph=True)
    (grad,) = ffnn.autograd.grad(found.sum(), x)
    t = torch.tensor(X, requires_grad=True)
    expected = torch.autograd.functional.jacobian(lambda a: a.sin() * a.sum(), t,
                                                  create_graph=True)
    (torch_grad,) = torch.autograd.grad(expected.sum(), t)
    assert_close(grad.numpy(), torch_grad.numpy())


def test_strict_mode_and_bad_arguments_raise():
    x = ffnn.tensor(X)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        ffnn.autograd.functional.vjp(lambda a, b: a.sum(), (x, x), strict=True)
    unused = jacobian(lambda a, b: a * 2, (x, x))
    np.testing.assert_array_equal(unused[1].numpy(), np.zeros((3, 3)))
    with pytest.raises(RuntimeError, match="single element"):
        hessian(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match="v must have the shapes"):
        ffnn.autograd.functional.jvp(lambda a: a * 2, x, ffnn.ones(4))
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        jacobian(lambda a: a, [1.0, 2.0])
