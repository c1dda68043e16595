"""``torch.func.stack_module_state`` and the model-ensembling recipe (a model moved to 'meta',
``vmap`` over ``functional_call``) against torch (float64), and 'meta' read as the CPU."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ffnn
from tests.helpers import assert_close


def _models(lib, count: int, seed: int = 0):
    """``count`` MLPs with batch norm, ffnn's and torch's with the same float64 weights."""
    rng = np.random.default_rng(seed)
    models = []
    for _ in range(count):
        model = lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.BatchNorm1d(8), lib.nn.Tanh(),
                                  lib.nn.Linear(8, 3)).double()
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
            model[1].running_mean.copy_(lib.tensor(rng.standard_normal(8)))
        models.append(model.eval())
    return models


def _ensemble_loss(lib, func):
    """The recipe: stack, a base model on 'meta', vmap of functional_call over the models
    (each on its own batch, then all on one batch); the summed loss's gradients."""
    models = _models(lib, 4)
    params, buffers = func.stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def fmodel(params, buffers, x):
        return func.functional_call(base, (params, buffers), (x,))

    x = lib.tensor(np.random.default_rng(1).standard_normal((4, 6, 5)))
    each = func.vmap(fmodel)(params, buffers, x)
    shared = func.vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x[0])
    loss = (each ** 2).sum() + shared.sum()
    loss.backward()
    return models, params, buffers, each, shared


def test_the_ensembling_recipe_gives_torchs_numbers_and_each_models_own():
    import torch.func

    ours = _ensemble_loss(ffnn, ffnn.func)
    theirs = _ensemble_loss(torch, torch.func)
    for a, b in zip(ours[3:], theirs[3:]):
        assert_close(a.detach().numpy(), b.detach().numpy())
    for kind in (1, 2):
        assert list(ours[kind]) == list(theirs[kind])
        for name in ours[kind]:
            assert tuple(ours[kind][name].shape) == tuple(theirs[kind][name].shape)
            assert ours[kind][name].requires_grad == theirs[kind][name].requires_grad
            assert_close(ours[kind][name].detach().numpy(), theirs[kind][name].detach().numpy())
    for name, stacked in ours[1].items():
        assert stacked.is_leaf
        assert_close(stacked.grad.numpy(), theirs[1][name].grad.numpy(), what=name)
    models, x = ours[0], np.random.default_rng(1).standard_normal((4, 6, 5))
    for i, model in enumerate(models):
        assert_close(ours[3][i].detach().numpy(), model(ffnn.tensor(x[i])).detach().numpy())
        assert all(p.grad is None for p in model.parameters())  # the stack is cut from them


def test_stacking_refuses_what_torch_refuses():
    for models in ([], [ffnn.nn.Linear(2, 2), ffnn.nn.Tanh()],
                   [ffnn.nn.Linear(2, 2), ffnn.nn.Linear(2, 2).eval()]):
        with pytest.raises(RuntimeError, match="stack_module_state"):
            ffnn.func.stack_module_state(models)
    frozen = ffnn.nn.Linear(2, 2)
    frozen.weight.requires_grad_(False)
    with pytest.raises(RuntimeError, match="requires_grad"):
        ffnn.func.stack_module_state([ffnn.nn.Linear(2, 2), frozen])
    both_frozen = [ffnn.nn.Linear(2, 2).requires_grad_(False) for _ in range(2)]
    params, _ = ffnn.func.stack_module_state(both_frozen)
    assert not params["weight"].requires_grad


def test_meta_is_the_cpu_and_keeps_the_values():
    model = ffnn.nn.Linear(3, 2)
    before = model.weight.detach().numpy().copy()
    assert model.to("meta") is model and model.to(device=ffnn.device("meta")) is model
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)
    assert model.to_empty(device="cpu") is model
    assert ffnn.zeros(2, device="meta").shape == (2,)
    with pytest.raises(RuntimeError, match="CUDA"):
        model.to_empty(device="cuda")
