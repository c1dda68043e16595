"""Shared fixtures: a fixed global seed per test, and torch's default dtype restored."""

from __future__ import annotations

import sys
from pathlib import Path

# make the checkout importable when ffnn is not pip-installed (``pytest`` without ``-m``)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

import ffnn  # noqa: E402

settings.register_profile("ffnn", max_examples=15, deadline=None, derandomize=True)
settings.load_profile("ffnn")


@pytest.fixture(autouse=True)
def _seed_and_restore_dtypes():
    """Every test starts from ffnn.manual_seed(0) and leaves default dtypes as it found them."""
    import torch

    ffnn.manual_seed(0)
    torch.manual_seed(0)
    torch_dtype, ffnn_dtype = torch.get_default_dtype(), ffnn.get_default_dtype()
    yield
    torch.set_default_dtype(torch_dtype)
    ffnn.set_default_dtype(ffnn_dtype)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
