"""ASGD follows torch.optim.ASGD's trajectory and its weight average (``ax``), before and
after averaging starts (t0), with weight decay, maximize and groups; float32 rounds as
torch's (η and μ held in float32); its state_dict round-trips; bad values are rejected."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import assert_same, run_both

CONFIGS = {
    "default": dict(),
    "averaging_from_step_5": dict(lr=0.05, lambd=1e-3, alpha=0.6, t0=5),
    "weight_decay_maximize": dict(lr=0.02, weight_decay=0.1, t0=10, maximize=True),
    "large_decay": dict(lr=0.2, lambd=0.05, t0=1),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_asgd_matches_torch_and_its_average(name):
    ours, theirs = run_both(lambda lib, ps: lib.optim.ASGD(ps, **CONFIGS[name]), steps=40)
    mine = [ours.state[p]["ax"] for p in ours.param_groups[0]["params"]]
    assert_same(mine, [theirs.state[t]["ax"] for t in theirs.param_groups[0]["params"]],
                what="ax")
    first = theirs.state[theirs.param_groups[0]["params"][0]]
    state = ours.state[ours.param_groups[0]["params"][0]]
    assert state["eta"] == float(first["eta"]) and state["mu"] == float(first["mu"])


def test_asgd_param_groups_match_torch():
    run_both(lambda lib, ps: lib.optim.ASGD(
        [{"params": ps[:2], "t0": 3}, {"params": ps[2:], "lr": 0.03, "lambd": 0.01}], lr=0.05))


def _float32_run(lib, values, gradients, resume_at=None):
    param = Parameter(values.copy()) if lib is ffnn else torch.tensor(values.copy(),
                                                                       requires_grad=True)
    optimizer = lib.optim.ASGD([param], lr=0.3, lambd=0.01, t0=3)
    for i, g in enumerate(gradients):
        if i == resume_at:
            saved = json.loads(json.dumps(optimizer.state_dict(), default=lambda a: a.tolist()))
            optimizer = lib.optim.ASGD([param], lr=0.3, lambd=0.01, t0=3)
            optimizer.load_state_dict(saved)
        param.grad = g.copy() if lib is ffnn else torch.from_numpy(g.copy())
        optimizer.step()
    return param.detach().numpy()


def test_asgd_float32_rounds_as_torch_and_resumes_from_its_state_dict():
    rng = np.random.default_rng(3)
    values = rng.standard_normal(50).astype(np.float32)
    gradients = [rng.standard_normal(50).astype(np.float32) for _ in range(12)]
    ours = _float32_run(ffnn, values, gradients)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, _float32_run(torch, values, gradients), rtol=2e-6,
                               atol=1e-6)
    np.testing.assert_array_equal(_float32_run(ffnn, values, gradients, resume_at=6), ours)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
])
def test_asgd_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ffnn.optim.ASGD([Parameter(ffnn.zeros(2).data)], **kwargs)
