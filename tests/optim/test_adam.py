"""Adam and AdamW follow torch.optim's trajectories; bad hyperparameters are rejected."""

from __future__ import annotations

import pytest

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import run_both

ADAM = {
    "default": dict(lr=0.05),
    "betas_eps": dict(lr=0.03, betas=(0.8, 0.99), eps=1e-6),
    "weight_decay": dict(lr=0.05, weight_decay=0.1),
    "amsgrad": dict(lr=0.05, amsgrad=True),
    "amsgrad_decay": dict(lr=0.05, amsgrad=True, weight_decay=0.05),
    "maximize": dict(lr=0.05, maximize=True, weight_decay=0.02),
    "small_beta1": dict(lr=0.05, betas=(0.3, 0.9)),
}
ADAMW = {
    "default": dict(lr=0.05),
    "strong_decay": dict(lr=0.05, weight_decay=0.3),
    "no_decay": dict(lr=0.05, weight_decay=0.0),
    "amsgrad": dict(lr=0.05, amsgrad=True, weight_decay=0.1),
    "maximize": dict(lr=0.05, maximize=True, amsgrad=True),
}


@pytest.mark.parametrize("name", list(ADAM))
def test_adam_matches_torch(name):
    run_both(lambda lib, ps: lib.optim.Adam(ps, **ADAM[name]))


@pytest.mark.parametrize("name", list(ADAMW))
def test_adamw_matches_torch(name):
    run_both(lambda lib, ps: lib.optim.AdamW(ps, **ADAMW[name]))


def test_adam_param_groups_with_different_options_match_torch():
    def build(lib, ps):
        return lib.optim.Adam(
            [{"params": ps[:2], "amsgrad": True},
             {"params": ps[2:3], "lr": 0.01, "betas": (0.5, 0.9), "weight_decay": 0.1},
             {"params": ps[3:], "maximize": True, "eps": 1e-3}],
            lr=0.05,
        )

    run_both(build)


def test_adamw_param_groups_with_and_without_decay_match_torch():
    def build(lib, ps):
        return lib.optim.AdamW(
            [{"params": ps[:2]}, {"params": ps[2:], "weight_decay": 0.0, "lr": 0.02}], lr=0.05
        )

    run_both(build)


def test_adamw_defaults_are_torchs():
    opt = ffnn.optim.AdamW([Parameter(ffnn.zeros(2).data)])
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (
        1e-3, (0.9, 0.999), 1e-8, 1e-2)
    assert group["decoupled_weight_decay"] is True


@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=-1.0), "Invalid learning rate: -1.0"),
        (dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (dict(betas=(0.9,)), r"betas must be a pair \(beta1, beta2\). Received: betas=\(0.9,\)"),
        (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    ],
)
def test_adam_rejects_bad_hyperparameters(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        getattr(ffnn.optim, cls)([Parameter(ffnn.zeros(2).data)], **kwargs)
