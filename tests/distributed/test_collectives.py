"""Collectives under ``mpiexec -n 3`` against values worked out by hand."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from ffnn.distributed.launch import run_mpi

from ._common import HERE, ROOT

RANKS = 3


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("collectives")
    argv = [sys.executable, os.path.join(HERE, "_collectives_worker.py"), str(out)]
    done = run_mpi(RANKS, argv, timeout=30, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(RANKS)]


def test_rank_and_world_size(results):
    assert [(r["rank"], r["size"]) for r in results] == [(0, 3), (1, 3), (2, 3)]


def test_all_reduce(results):
    for got in results:  # rank r holds [r+1, 10(r+1)]
        assert got["all_reduce_sum"] == [6.0, 60.0]
        assert got["all_reduce_mean"] == [2.0, 20.0]
        assert got["all_reduce_max"] == [3.0, 30.0]
        assert got["all_reduce_min"] == [1.0, 10.0]
        assert got["all_reduce_int"] == 6


def test_broadcast_json_and_reduce_metrics(results):
    for got in results:
        assert got["broadcast_json"] == {"from": 0, "text": ""}
        # loss r+1 with weight r+1: (1 + 4 + 9) / 6
        assert got["metrics"] == pytest.approx({"loss": 14 / 6, "acc": 0.5}, rel=1e-15)


def test_allreduce_gradients_weighted_mean_sum_and_missing(results):
    for got in results:
        assert got["total_weight"] == 6.0
        a, b, c_is_none = got["weighted"]
        np.testing.assert_allclose(a, [14 / 6] * 3, rtol=1e-15)  # Σ w_r g_r / Σ w_r
        np.testing.assert_allclose(b, np.array([1.0, 2.0, 3.0]) / 6, rtol=1e-15)  # None = 0
        assert c_is_none  # no rank had a gradient: stays None
        assert got["sum"] == [[6.0] * 3, True]
        assert got["plain_total"] == 3.0 and got["plain"] == [2.0] * 3


def test_allreduce_gradients_of_a_module_through_shared_memory(results):
    """A Module's gradients on one host go through one shared window (made once, reused):
    the same weighted mean and sum as the messages' path, float32 kept, a gradient missing
    everywhere left None; on random gradients the two paths agree to rounding (three ranks
    add in another order than MPI) and every rank gets the very same result."""
    for got in results:
        assert got["shared_window"]
        assert got["shared_total_weight"] == 6.0
        a, b, dtype, c_is_none = got["shared_weighted"]
        np.testing.assert_allclose(a, [14 / 6] * 3, rtol=1e-15)
        np.testing.assert_allclose(b, np.array([1.0, 2.0, 3.0]) / 6, rtol=1e-7)
        assert dtype == "float32" and c_is_none
        assert got["shared_sum"] == [[6.0] * 3, True]
        assert got["shared_after_freeze"] == [[2.0] * 3, 2]
        largest, _ = got["shared_random"]
        assert largest < 1e-5  # float32's rounding; float64's would be ~1e-16
    assert len({tuple(got["shared_random"][1]) for got in results}) == 1


def test_broadcast_parameters_copies_rank0_parameters_and_buffers(results):
    for got in results:
        assert got["broadcast"] == [1.0, 1.0, 1.0, 1.0, 5.0, 7]


def test_mismatched_models_raise_on_every_rank(results):
    for got in results:
        assert "ranks [2] hold a different model from rank 0" in got["mismatch"]
        assert "Build the same model on every rank" in got["mismatch"]
        assert "allreduce_gradients: ranks [2]" in got["mismatch_grads"]
        assert "ranks passed different metric names" in got["metric_names"]
