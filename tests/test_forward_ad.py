"""``torch.autograd.forward_ad`` against torch's (float64): tangents of functions and of a
module's output through dual parameters, tensors that are no function of a dual, and the
errors torch raises."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as torch_fwad

import ffnn
import ffnn.autograd.forward_ad as ffnn_fwad
from tests.helpers import assert_close

rng = np.random.default_rng(0)
X, Y, V = (rng.standard_normal((3, 4)) for _ in range(3))


def _function(lib, x, y):
    hidden = lib.nn.functional.gelu(x @ y.T) + (x ** 2).sin().sum(1, keepdim=True)
    return lib.softmax(hidden, 1) * lib.nn.functional.logsigmoid(x.sum(1, keepdim=True))


@pytest.mark.parametrize("tangent_of_y", [False, True])
def test_tangents_of_a_function_are_torchs(tangent_of_y):
    results = []
    for lib, fwad in ((ffnn, ffnn_fwad), (torch, torch_fwad)):
        with fwad.dual_level():
            x = fwad.make_dual(lib.tensor(X), lib.tensor(V))
            y = fwad.make_dual(lib.tensor(Y), lib.tensor(V[::-1].copy())) if tangent_of_y \
                else lib.tensor(Y)
            primal, tangent = fwad.unpack_dual(_function(lib, x, y))
            own = fwad.unpack_dual(x).tangent
            results.append((primal.detach().numpy(), tangent.detach().numpy(),
                            own.detach().numpy()))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs)


def test_a_modules_output_through_dual_parameters_is_torchs():
    results = []
    for lib, fwad in ((ffnn, ffnn_fwad), (torch, torch_fwad)):
        model = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.Tanh(), lib.nn.Linear(5, 2))
        model = model.double()
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.tensor(np.random.default_rng(1).standard_normal(tuple(p.shape))))
        params = dict(model.named_parameters())
        with fwad.dual_level():
            duals = {name: fwad.make_dual(p, lib.ones_like(p)) for name, p in params.items()}
            out = lib.func.functional_call(model, duals, (lib.tensor(X),))
            results.append(fwad.unpack_dual(out).tangent.detach().numpy())
    assert_close(results[0], results[1])


def test_a_tensor_that_is_no_function_of_a_dual_has_no_tangent():
    for lib, fwad in ((ffnn, ffnn_fwad), (torch, torch_fwad)):
        with fwad.dual_level():
            fwad.make_dual(lib.tensor(X), lib.tensor(V))
            assert fwad.unpack_dual(lib.tensor(Y) * 2).tangent is None


def test_errors_are_torchs():
    for lib, fwad in ((ffnn, ffnn_fwad), (torch, torch_fwad)):
        with fwad.dual_level():
            with pytest.raises(RuntimeError, match="different size"):
                fwad.make_dual(lib.tensor(X), lib.tensor(V[:2]))
    with pytest.raises(RuntimeError, match="dual level"):
        ffnn_fwad.make_dual(ffnn.tensor(X), ffnn.tensor(V))
    with ffnn_fwad.dual_level(), pytest.raises(RuntimeError, match="Nested"):
        ffnn_fwad.enter_dual_level()
