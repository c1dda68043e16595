"""An error on one rank ends every rank quickly (never a hang); the run then resumes from the
last checkpoint, written by rank 0 alone, and ends where an uninterrupted run ends."""

from __future__ import annotations

import os

import numpy as np
import pytest
from safetensors import safe_open

from ._common import config, launch, max_relative_error, read_rank_outputs, reference_run

TIMEOUT = 30.0  # a hang fails the test through subprocess.TimeoutExpired


@pytest.mark.parametrize("fail_rank", [0, 1])
def test_error_on_one_rank_aborts_all_ranks_with_its_message(fail_rank, tmp_path):
    cfg = config(epochs=3, fail_rank=fail_rank, fail_step=10)
    done = launch(cfg, str(tmp_path), timeout=TIMEOUT)
    assert done.returncode != 0
    assert f"rank {fail_rank} of 2 failed; aborting all ranks" in done.stderr
    assert f"RuntimeError: injected failure on rank {fail_rank} at step 10" in done.stderr
    assert not any(name.startswith("rank") for name in os.listdir(tmp_path))  # nobody finished


def test_resume_from_last_checkpoint_matches_uninterrupted_run(tmp_path):
    checkpoint = str(tmp_path / "last.safetensors")
    failing = config(epochs=3, checkpoint=checkpoint, checkpoint_every=4, fail_rank=1,
                     fail_step=10)
    (tmp_path / "failed").mkdir()
    done = launch(failing, str(tmp_path / "failed"), timeout=TIMEOUT)
    assert done.returncode != 0 and "injected failure on rank 1" in done.stderr
    # steps 4 and 8 were checkpointed before the failure at step 10; only rank 0 wrote
    assert sorted(os.listdir(tmp_path)) == ["failed", "last.safetensors"]
    with safe_open(checkpoint, "np") as handle:
        position = handle.metadata()["position"]
    assert '"step": 8' in position and '"written_by_rank": 0' in position

    (tmp_path / "resumed").mkdir()
    resumed = dict(failing, fail_rank=None, resume=True)
    done = launch(resumed, str(tmp_path / "resumed"), timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    (tmp_path / "straight").mkdir()
    straight = config(epochs=3)
    done = launch(straight, str(tmp_path / "straight"), timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr

    after_resume = read_rank_outputs(str(tmp_path / "resumed"), 2)
    uninterrupted = read_rank_outputs(str(tmp_path / "straight"), 2)
    for (weights, info), (expected, expected_info) in zip(after_resume, uninterrupted):
        for key in expected:
            np.testing.assert_array_equal(weights[key], expected[key])
        np.testing.assert_allclose(info["losses"], expected_info["losses"], rtol=1e-12)
    assert max_relative_error(after_resume[0][0], reference_run(straight)[0]) <= 1e-10
