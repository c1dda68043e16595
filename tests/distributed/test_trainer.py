"""``Trainer(..., distributed=True)``: R ranks give what one process gives, logs included."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from ffnn.distributed import _mpi
from ffnn.distributed.launch import run_mpi

from ._common import HERE, ROOT, config, max_relative_error, read_rank_outputs

sys.path.insert(0, HERE)
import _trainer_worker  # noqa: E402


@pytest.mark.parametrize("kind,ranks", [("mlp", 2), ("syncbn", 3)])
def test_distributed_trainer_matches_one_process(kind, ranks, tmp_path, monkeypatch):
    # 52 rows, global batch 12: on 3 ranks the last batch of 4 splits 2/1/1
    cfg = config(kind=kind, ranks=ranks, n=52, batch_size=12)
    argv = [sys.executable, os.path.join(HERE, "_trainer_worker.py"),
            json.dumps(cfg), str(tmp_path)]
    done = run_mpi(ranks, argv, timeout=30, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    outputs = read_rank_outputs(str(tmp_path), ranks)

    single = tmp_path / "single"
    single.mkdir()
    monkeypatch.setitem(_mpi._state, "noted", False)  # the note is given once per process
    with pytest.warns(RuntimeWarning, match="world size is 1"):
        reference, reference_history = _trainer_worker.run(cfg, str(single))
    for weights, history in outputs:
        assert max_relative_error(weights, reference) <= 1e-10
        assert sorted(history) == sorted(reference_history)
        for key, values in reference_history.items():  # loss, mae, r2 (reduced), val_*, lr
            np.testing.assert_allclose(history[key], values, rtol=1e-10, err_msg=key)
    # writers ran on rank 0 alone
    written = sorted(name for name in os.listdir(tmp_path) if not name.startswith("rank"))
    assert written == ["callback_rank0.txt", "log.csv", "single"]
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 1 + cfg["epochs"]
