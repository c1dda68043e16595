"""SGD follows torch.optim.SGD's trajectory; bad hyperparameters are rejected clearly."""

from __future__ import annotations

import pytest

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import run_both

CONFIGS = {
    "plain": dict(lr=0.05),
    "momentum": dict(lr=0.01, momentum=0.9),
    "dampening": dict(lr=0.02, momentum=0.8, dampening=0.3),
    "nesterov": dict(lr=0.01, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.02, momentum=0.5, weight_decay=0.1),
    "maximize": dict(lr=0.02, momentum=0.7, weight_decay=0.05, maximize=True),
    "maximize_plain": dict(lr=0.02, maximize=True),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_sgd_matches_torch(name):
    run_both(lambda lib, ps: lib.optim.SGD(ps, **CONFIGS[name]))


def test_sgd_param_groups_with_different_options_match_torch():
    def build(lib, ps):
        return lib.optim.SGD(
            [{"params": ps[:2]},
             {"params": ps[2:3], "lr": 0.005, "nesterov": True, "weight_decay": 0.2},
             {"params": ps[3:], "momentum": 0.0, "lr": 0.03}],
            lr=0.01, momentum=0.9,
        )

    run_both(build)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=-1.0), "Invalid learning rate: -1.0"),
        (dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
        (dict(lr=0.1, weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
        (dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        (dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
    ],
)
def test_sgd_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ffnn.optim.SGD([Parameter(ffnn.zeros(2).data)], **kwargs)


def test_sgd_rejects_a_bad_option_in_a_param_group():
    p, q = Parameter(ffnn.zeros(2).data), Parameter(ffnn.zeros(2).data)
    with pytest.raises(ValueError, match="Invalid learning rate: -0.5"):
        ffnn.optim.SGD([{"params": [p]}, {"params": [q], "lr": -0.5}], lr=0.1)


def test_sgd_rejects_a_non_number_lr():
    with pytest.raises(TypeError, match="lr must be a real number. Received: lr='0.1'"):
        ffnn.optim.SGD([Parameter(ffnn.zeros(2).data)], lr="0.1")
