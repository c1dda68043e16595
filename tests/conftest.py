"""Shared fixtures: a fixed global seed per test, and torch's default dtype restored; the
first compile's notice off; each xdist worker compiles its share of the kernels first."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# the first compile's notice on stderr (ffnn.kernels.compile_notice) would land in whichever
# check reads stderr while it runs; tests/kernels/test_compile_notice.py turns it on
os.environ["FFNN_COMPILE_NOTICE"] = "0"

# the many Python processes the tests start (the CLI, the bench's peers, distributed ranks)
# read the bytecode the first one wrote instead of compiling every module again, even where
# the environment asks Python not to write it
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# make the checkout importable when ffnn is not pip-installed (``pytest`` without ``-m``)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

import ffnn  # noqa: E402

settings.register_profile("ffnn", max_examples=15, deadline=None, derandomize=True)
settings.load_profile("ffnn")


def pytest_sessionstart(session):
    """Each xdist worker compiles its share of the kernels first (tests/kernel_warmup.py)."""
    from tests import kernel_warmup

    kernel_warmup.compile_for_worker()


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
