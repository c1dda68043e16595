"""Fixtures of the kernels' tests."""

from __future__ import annotations

import pytest

from tests.helpers import whole_splits


@pytest.fixture
def split_calls(monkeypatch):
    """Two threads to split over (else skip), and ``(calls that split, run whole)``: a
    context manager in which every call runs whole."""
    from ffnn.kernels import blas_split

    found = blas_split.splitter()
    if found is None or found.threads() < 2:
        pytest.skip("no OpenBLAS splitter with two threads here")
    done, run_arrays = [], blas_split.run_arrays

    def counted(*args, **kwargs):
        split = run_arrays(*args, **kwargs)
        done.append(split)
        return split

    monkeypatch.setattr(blas_split, "run_arrays", counted)
    return done, whole_splits(monkeypatch)
