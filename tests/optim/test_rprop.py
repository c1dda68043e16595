"""Rprop follows torch.optim.Rprop's trajectory (step sizes grown, cut, clamped; the step
after a sign flip skipped); its state_dict round-trips; bad hyperparameters are rejected."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import run_both

CONFIGS = {
    "default": dict(),
    "etas_and_bounds": dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
    "maximize": dict(lr=0.02, maximize=True),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_rprop_matches_torch(name):
    ours, theirs = run_both(lambda lib, ps: lib.optim.Rprop(ps, **CONFIGS[name]), steps=60)
    for p, t in zip(ours.param_groups[0]["params"], theirs.param_groups[0]["params"]):
        np.testing.assert_allclose(ours.state[p]["step_size"],
                                   theirs.state[t]["step_size"].numpy(), rtol=1e-12)
    sizes = np.concatenate([ours.state[p]["step_size"].ravel()
                            for p in ours.param_groups[0]["params"]])
    assert len(np.unique(np.round(sizes, 12))) > 1, "step sizes should differ between weights"


def test_rprop_param_groups_match_torch():
    run_both(lambda lib, ps: lib.optim.Rprop(
        [{"params": ps[:2], "etas": (0.4, 1.3)}, {"params": ps[2:], "lr": 0.03}]))


def test_rprop_float32_and_resume_from_its_state_dict():
    rng = np.random.default_rng(3)
    values = rng.standard_normal(6).astype(np.float32)
    gradients = [rng.standard_normal(6).astype(np.float32) for _ in range(8)]

    def run(resume_at: int | None):
        param = Parameter(values.copy())
        optimizer = ffnn.optim.Rprop([param], lr=0.1)
        for i, g in enumerate(gradients):
            if i == resume_at:
                saved = json.loads(json.dumps(optimizer.state_dict(), default=lambda a: a.tolist()))
                optimizer = ffnn.optim.Rprop([param], lr=0.1)
                optimizer.load_state_dict(saved)
            param.grad = g.copy()
            optimizer.step()
        return param.numpy()

    straight = run(None)
    assert straight.dtype == np.float32
    np.testing.assert_array_equal(run(4), straight)
    reference = torch.tensor(values.copy(), requires_grad=True)
    optimizer = torch.optim.Rprop([reference], lr=0.1)
    for g in gradients:
        reference.grad = torch.from_numpy(g.copy())
        optimizer.step()
    np.testing.assert_array_equal(straight, reference.detach().numpy())


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(etas=(1.5, 1.2)), "Invalid eta values: 1.5, 1.2"),
])
def test_rprop_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ffnn.optim.Rprop([Parameter(ffnn.zeros(2).data)], **kwargs)
