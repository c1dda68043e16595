"""Adamax, NAdam and RAdam follow torch.optim's trajectories (float64, several steps)."""

from __future__ import annotations

import pytest
import torch

import ffnn
from ffnn.nn.parameter import Parameter

from .reference import run_both

CONFIGS = {
    "Adamax": dict(),
    "Adamax_options": dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    "Adamax_maximize": dict(lr=0.01, maximize=True),
    "NAdam": dict(),
    "NAdam_options": dict(lr=0.05, betas=(0.85, 0.995), momentum_decay=0.01, weight_decay=0.1),
    "NAdam_decoupled": dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True),
    "RAdam": dict(),
    "RAdam_options": dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.1),
    "RAdam_decoupled_maximize": dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True,
                                     maximize=True),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_matches_torch(name):
    kind = name.split("_")[0]
    run_both(lambda lib, ps: getattr(lib.optim, kind)(ps, **CONFIGS[name]))


@pytest.mark.parametrize("kind", ["Adamax", "NAdam", "RAdam"])
def test_rejects_a_bad_beta(kind):
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.5"):
        getattr(ffnn.optim, kind)([Parameter(ffnn.zeros(2))], betas=(0.9, 1.5))


def test_nadam_groups_of_other_schedules_match_torch():
    """Each group's Πμ follows its own β₁ and momentum decay (parameters of one step share
    a Πμ only where those agree)."""
    run_both(lambda lib, ps: lib.optim.NAdam(
        [{"params": ps[:2], "momentum_decay": 0.01}, {"params": ps[2:3]},
         {"params": ps[3:], "betas": (0.8, 0.999)}], lr=0.05))


def test_nadam_group_added_after_some_steps_matches_torch():
    """A group added at step 4 starts its own Πμ from 1 while the others go on."""
    from .reference import assert_same, initial_arrays, make_params, set_grads

    values, targets = initial_arrays()
    runs = []
    for lib in (ffnn, torch):
        params = make_params(lib, values)
        opt = lib.optim.NAdam(params[:2], lr=0.05)
        for step in range(8):
            if step == 3:
                opt.add_param_group({"params": params[2:]})
            set_grads(params[:2] if step < 3 else params, targets[:2] if step < 3 else targets)
            opt.step()
        runs.append(params)
    assert_same(*runs)
