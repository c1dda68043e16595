"""`mpiexec -n 2 ffnn train CONFIG.toml`: one run folder written by rank 0, and the same
weights as the single-process run (same seed, same global batch)."""

from __future__ import annotations

import json
import os
import sys

import numpy as np

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


def test_two_ranks_write_one_run_equal_to_one_process(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(CONFIG)
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
    one = ffnn.load(tmp_path / "one" / "last.safetensors").model.state_dict()
    two = ffnn.load(tmp_path / "two" / "last.safetensors").model.state_dict()
    for key, value in one.items():
        np.testing.assert_allclose(two[key], value, rtol=1e-5, atol=1e-6, err_msg=key)
    summaries = [json.loads((tmp_path / d / "summary.json").read_text()) for d in ("one", "two")]
    assert summaries[0]["rows"] == summaries[1]["rows"]
