"""RMSprop follows torch.optim.RMSprop's trajectory; bad hyperparameters are rejected."""

from __future__ import annotations

import pytest

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import run_both

CONFIGS = {
    "default": dict(lr=0.01),
    "alpha_eps": dict(lr=0.01, alpha=0.9, eps=1e-4),
    "weight_decay": dict(lr=0.01, weight_decay=0.1),
    "momentum": dict(lr=0.005, momentum=0.9),
    "centered": dict(lr=0.01, centered=True),
    "centered_momentum_decay": dict(lr=0.005, centered=True, momentum=0.8, weight_decay=0.05),
    "maximize": dict(lr=0.01, maximize=True, momentum=0.5),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_rmsprop_matches_torch(name):
    run_both(lambda lib, ps: lib.optim.RMSprop(ps, **CONFIGS[name]))


def test_rmsprop_param_groups_with_different_options_match_torch():
    def build(lib, ps):
        return lib.optim.RMSprop(
            [{"params": ps[:2], "centered": True},
             {"params": ps[2:], "momentum": 0.9, "lr": 0.002, "alpha": 0.95}],
            lr=0.01,
        )

    run_both(build)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=-1.0), "Invalid learning rate: -1.0"),
        (dict(eps=-1.0), "Invalid epsilon value: -1.0"),
        (dict(momentum=-0.1), "Invalid momentum value: -0.1"),
        (dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
        (dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ],
)
def test_rmsprop_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ffnn.optim.RMSprop([Parameter(ffnn.zeros(2).data)], **kwargs)


def test_alpha_above_one_is_refused():
    """1 - alpha < 0 would make the running average of squares negative (NaN steps)."""
    with pytest.raises(ValueError, match=r"Invalid alpha value: 1.5 \(expected 0 <= alpha <= 1\)"):
        ffnn.optim.RMSprop([Parameter(ffnn.zeros(2))], alpha=1.5)
