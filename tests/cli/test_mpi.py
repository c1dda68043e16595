"""`mpiexec -n 2 ffnn train CONFIG.toml`: one run folder written by rank 0, and the same
weights as the single-process run (same seed, same global batch)."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import ffnn
from ffnn.distributed.launch import run_mpi
from tests.cli.conftest import ROOT, run_ffnn

CONFIG = """
seed = 3
[data]
name = "iris"
[model]
hidden_sizes = [16]
[train]
epochs = 4
batch_size = 16
optimizer = "sgd"
lr = 0.05
"""


@pytest.mark.parametrize("sharded", [False, True])
def test_two_ranks_write_one_run_equal_to_one_process(sharded, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(CONFIG.replace("optimizer = \"sgd\"", "optimizer = \"adam\"") +
                      "shard_optimizer = true\n" if sharded else CONFIG)
    single = run_ffnn("train", config, "--out", tmp_path / "one", "--quiet", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "MPLBACKEND": "Agg"}
    double = run_mpi(2, [sys.executable, "-m", "ffnn", "train", str(config), "--out",
                         str(tmp_path / "two")], timeout=180, env=env, cwd=str(tmp_path))
    assert double.returncode == 0, double.stderr
    assert double.stdout.count("wrote") == 1  # only rank 0 prints
    for name in ("best.safetensors", "last.safetensors", "metrics.csv", "summary.json"):
        assert (tmp_path / "two" / name).is_file()
    one = ffnn.load(tmp_path / "one" / "last.safetensors")
    two = ffnn.load(tmp_path / "two" / "last.safetensors")
    for key, value in one.model.state_dict().items():
        np.testing.assert_allclose(two.model.state_dict()[key], value, rtol=1e-5, atol=1e-6,
                                   err_msg=key)
    # the optimizer's state: with shard_optimizer, gathered from both ranks by rank 0
    assert sorted(two.optimizer["state"]) == sorted(one.optimizer["state"])
    for index, values in one.optimizer["state"].items():
        for key, value in values.items():
            np.testing.assert_allclose(two.optimizer["state"][index][key], value, rtol=1e-4,
                                       atol=1e-6, err_msg=f"{index}.{key}")
    summaries = [json.loads((tmp_path / d / "summary.json").read_text()) for d in ("one", "two")]
    assert summaries[0]["rows"] == summaries[1]["rows"]


def test_shard_optimizer_builds_a_zero_redundancy_optimizer_under_mpiexec(monkeypatch):
    from ffnn import nn, optim
    from ffnn.cli._build import build_optimizer
    from ffnn.cli.config import TrainConfig
    from ffnn.distributed import ZeroRedundancyOptimizer

    params = list(nn.Linear(3, 2).parameters())
    train = TrainConfig(optimizer="adamw", shard_optimizer=True)
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(name, raising=False)
    assert type(build_optimizer(train, params)) is optim.AdamW  # one process: plain
    monkeypatch.setenv("PMI_SIZE", "2")  # as mpiexec -n 2 sets it
    sharded = build_optimizer(train, params)
    assert isinstance(sharded, ZeroRedundancyOptimizer)
    assert sharded.optimizer_class is optim.AdamW and sharded.defaults["lr"] == train.lr
