"""Tensor.register_hook against torch: leaves and intermediates, replacing gradients,
several hooks in order, removal, autograd.grad, and the error without requires_grad."""

import numpy as np
import pytest
import torch

import ffnn


def _run(lib, remove_second: bool):
    seen = []
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = lib.tensor([0.5, 0.25, -1.0], requires_grad=True)
    h = x * w
    h.register_hook(lambda g: seen.append(("h", g.numpy().tolist())))
    h.register_hook(lambda g: g * 2)
    second = x.register_hook(lambda g: g + 1)
    w.register_hook(lambda g: seen.append(("w", g.numpy().tolist())))
    if remove_second:
        second.remove()
    y = (h ** 2).sum() + h.sum()
    y.backward()
    return seen, x.grad.numpy(), w.grad.numpy()


@pytest.mark.parametrize("remove_second", [False, True])
def test_hooks_see_and_replace_gradients_as_torch(remove_second):
    ours, theirs = _run(ffnn, remove_second), _run(torch, remove_second)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-7)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-7)


def test_hooks_apply_to_autograd_grad_and_need_requires_grad():
    results = []
    for lib in (ffnn, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 10)
        (g,) = lib.autograd.grad((x * x).sum(), x)
        results.append(g.numpy())
    np.testing.assert_allclose(results[0], results[1])
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ffnn.ones(2).register_hook(print)
