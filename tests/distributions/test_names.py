"""Every public name of torch.distributions, its transforms and its constraints exists in
ffnn.distributions (``import ffnn as torch`` programs find them)."""

from __future__ import annotations

import pytest
import torch

import ffnn.distributions as D


@pytest.mark.parametrize("theirs, ours", [
    (torch.distributions, D), (torch.distributions.transforms, D.transforms),
    (torch.distributions.constraints, D.constraints)])
def test_every_public_name_of_torch_distributions_exists(theirs, ours):
    missing = [name for name in theirs.__all__ if not hasattr(ours, name)]
    assert not missing, f"missing from {ours.__name__}: {missing}"
