"""ZeroRedundancyOptimizer under mpiexec: the sharded step equals one process's plain step,
through shared memory and through messages; its state checkpoints and resumes."""

from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np
import pytest

from ffnn.distributed.launch import run_mpi
from ffnn.io import load

from ._common import (
    HERE,
    ROOT,
    build_model,
    config,
    launch,
    max_relative_error,
    read_rank_outputs,
    reference_run,
)

sys.path.insert(0, HERE)
import _trainer_worker  # noqa: E402

CASES = {
    # 2 groups, AdamW: rank 0 owns the first weight, rank 1 the other three parameters
    "2 ranks shared memory float64": (config(zero="shared", groups=True, optimizer="AdamW"),
                                      1e-10),
    "2 ranks messages float64": (config(zero="messages", groups=True), 1e-10),
    "2 ranks shared memory float32": (config(zero="shared", dtype="float32"), 1e-5),
    # the last batch of 4 splits 2/1/1: owners weight each rank's gradient by its rows
    "3 ranks uneven shards, shared memory": (
        config(zero="shared", ranks=3, n=52, batch_size=12, groups=True), 1e-10),
    "3 ranks uneven shards, messages": (
        config(zero="messages", ranks=3, n=52, batch_size=12), 1e-10),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sharded_optimizer_matches_one_process(name, tmp_path):
    cfg, tolerance = CASES[name]
    done = launch(cfg, str(tmp_path))
    assert done.returncode == 0, done.stderr
    outputs = read_rank_outputs(str(tmp_path), cfg["ranks"])
    reference, reference_losses = reference_run(cfg)  # a plain optimizer, whole batches
    for weights, _ in outputs[1:]:
        for key in weights:
            np.testing.assert_array_equal(weights[key], outputs[0][0][key])
    assert max_relative_error(outputs[0][0], reference) <= tolerance
    np.testing.assert_allclose(outputs[0][1]["losses"], reference_losses, rtol=tolerance)


def test_sharded_optimizer_resumes_from_a_checkpoint_after_a_failure(tmp_path):
    """Rank 0 saves the consolidated state of both ranks' shards; after rank 1 fails, a new
    run loads it on every rank and ends where an uninterrupted one-process run ends."""
    checkpoint = str(tmp_path / "last.safetensors")
    base = dict(zero="shared", groups=True, optimizer="AdamW", epochs=3)
    failing = config(**base, checkpoint=checkpoint, checkpoint_every=4, fail_rank=1,
                     fail_step=10)
    (tmp_path / "failed").mkdir()
    done = launch(failing, str(tmp_path / "failed"))
    assert done.returncode != 0 and "injected failure on rank 1" in done.stderr
    (tmp_path / "resumed").mkdir()
    done = launch(dict(failing, fail_rank=None, resume=True), str(tmp_path / "resumed"))
    assert done.returncode == 0, done.stderr
    weights, info = read_rank_outputs(str(tmp_path / "resumed"), 2)[0]
    reference, losses = reference_run(config(**base))
    assert max_relative_error(weights, reference) <= 1e-10
    np.testing.assert_allclose(info["losses"], losses, rtol=1e-10)


def test_replacing_a_shared_parameter_array_is_refused(tmp_path):
    cfg = config(zero="shared", replace_data=True)  # model.double() after the optimizer
    done = launch(cfg, str(tmp_path))
    assert done.returncode != 0
    assert "parameter 0's array was replaced after the optimizer moved it into shared " \
           "memory" in done.stderr


def _trainer_run(cfg: dict, out) -> None:
    argv = [sys.executable, os.path.join(HERE, "_trainer_worker.py"), json.dumps(cfg),
            str(out)]
    done = run_mpi(cfg["ranks"], argv, timeout=30, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def _one_process(cfg: dict, out) -> dict:
    out.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the note: world size is 1
        return _trainer_worker.run(dict(cfg, zero=None), str(out))[0]


def test_trainer_with_sharded_optimizer_checkpoints_and_resumes(tmp_path):
    """Trainer(distributed=True) with a ZeroRedundancyOptimizer: weights, the checkpoint's
    optimizer state (gathered from both ranks) and a resumed run all equal one process's."""
    cfg = config(zero="shared", groups=True, optimizer="AdamW", n=52, batch_size=12,
                 epochs=2, checkpoint=str(tmp_path / "ckpt"))
    (tmp_path / "two").mkdir()
    _trainer_run(cfg, tmp_path / "two")
    reference = _one_process(dict(cfg, checkpoint=str(tmp_path / "ref_ckpt")),
                             tmp_path / "single")
    assert max_relative_error(read_rank_outputs(str(tmp_path / "two"), 2)[0][0],
                              reference) <= 1e-10
    saved = load(tmp_path / "ckpt" / "last.safetensors", build_model(cfg, 0)).optimizer
    expected = load(tmp_path / "ref_ckpt" / "last.safetensors", build_model(cfg, 0)).optimizer
    assert saved["param_groups"] == expected["param_groups"]
    assert sorted(saved["state"], key=int) == sorted(expected["state"], key=int)
    for index, values in expected["state"].items():
        assert sorted(saved["state"][index]) == sorted(values)
        for key, value in values.items():
            np.testing.assert_allclose(saved["state"][index][key], value, rtol=1e-10,
                                       atol=1e-300, err_msg=f"{index}.{key}")

    resumed = dict(cfg, epochs=3, resume=True)
    (tmp_path / "resumed").mkdir()
    _trainer_run(resumed, tmp_path / "resumed")
    straight = _one_process(dict(cfg, epochs=3, checkpoint=None), tmp_path / "straight")
    for weights, _ in read_rank_outputs(str(tmp_path / "resumed"), 2):
        assert max_relative_error(weights, straight) <= 1e-10
