"""Adamax, NAdam and RAdam follow torch.optim's trajectories (float64, several steps)."""

from __future__ import annotations

import pytest

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
