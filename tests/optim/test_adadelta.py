"""Adadelta follows torch.optim.Adadelta's trajectory; bad hyperparameters are rejected."""

from __future__ import annotations

import pytest

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import run_both

CONFIGS = {
    "default": dict(),
    "lr_rho_eps": dict(lr=0.5, rho=0.8, eps=1e-4),
    "weight_decay": dict(weight_decay=0.1),
    "maximize": dict(lr=0.3, maximize=True),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_adadelta_matches_torch(name):
    run_both(lambda lib, ps: lib.optim.Adadelta(ps, **CONFIGS[name]))


def test_adadelta_param_groups_match_torch():
    run_both(lambda lib, ps: lib.optim.Adadelta(
        [{"params": ps[:2], "rho": 0.95}, {"params": ps[2:], "lr": 0.5}], lr=1.0))


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (dict(rho=1.5), "Invalid rho value: 1.5"),
    (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
])
def test_adadelta_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ffnn.optim.Adadelta([Parameter(ffnn.zeros(2).data)], **kwargs)
