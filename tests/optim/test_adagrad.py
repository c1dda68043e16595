"""Adagrad follows torch.optim.Adagrad's trajectory; bad hyperparameters are rejected."""

from __future__ import annotations

import pytest

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import run_both

CONFIGS = {
    "default": dict(lr=0.1),
    "lr_decay": dict(lr=0.2, lr_decay=0.05),
    "weight_decay": dict(lr=0.1, weight_decay=0.1),
    "initial_accumulator": dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6),
    "maximize": dict(lr=0.1, maximize=True, lr_decay=0.01, weight_decay=0.02),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_adagrad_matches_torch(name):
    run_both(lambda lib, ps: lib.optim.Adagrad(ps, **CONFIGS[name]))


def test_adagrad_param_groups_with_different_options_match_torch():
    def build(lib, ps):
        return lib.optim.Adagrad(
            [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05, "lr_decay": 0.1}], lr=0.1
        )

    run_both(build)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=-1.0), "Invalid learning rate: -1.0"),
        (dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
        (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
        (dict(eps=-1e-10), "Invalid epsilon value: -1e-10"),
    ],
)
def test_adagrad_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ffnn.optim.Adagrad([Parameter(ffnn.zeros(2).data)], **kwargs)
