"""R ranks under mpiexec train to the same weights as one process with the whole batch."""

from __future__ import annotations

import numpy as np
import pytest

from ._common import config, launch, max_relative_error, read_rank_outputs, reference_run

CASES = {
    # 2 ranks, 6 full batches of 8 per epoch
    "2 ranks float64": (config(), 1e-10),
    "2 ranks float32": (config(dtype="float32"), 1e-5),
    # 52 = 4·12 + 4: the last batch of 4 splits 2/1/1 over 3 ranks, gradients size-weighted
    "3 ranks uneven last batch": (config(ranks=3, n=52, batch_size=12), 1e-10),
    # 50 = 4·12 + 2: 2 < 3 ranks, so the rule drops that batch (the reference drops it too)
    "3 ranks last batch smaller than ranks": (config(ranks=3, n=50, batch_size=12), 1e-10),
    "2 ranks drop_last": (config(n=52, drop_last=True), 1e-10),
}


@pytest.mark.parametrize("name", list(CASES))
def test_ranks_match_one_process(name, tmp_path):
    cfg, tolerance = CASES[name]
    done = launch(cfg, str(tmp_path))
    assert done.returncode == 0, done.stderr
    outputs = read_rank_outputs(str(tmp_path), cfg["ranks"])
    reference, reference_losses = reference_run(cfg)
    weights0 = outputs[0][0]
    for weights, _ in outputs[1:]:  # every rank holds the same weights, bit for bit
        for key in weights0:
            np.testing.assert_array_equal(weights[key], weights0[key])
    assert max_relative_error(weights0, reference) <= tolerance
    # losses reduced across ranks (reduce_metrics weighted by rows) = one-process epoch means
    np.testing.assert_allclose(outputs[0][1]["losses"], reference_losses, rtol=tolerance)
    # the documented split: rank r takes positions r, r+R, … of the used samples
    n, b, ranks = cfg["n"], cfg["batch_size"], cfg["ranks"]
    used = n - n % b if cfg["drop_last"] or n % b < ranks else n
    for r, (_, info) in enumerate(outputs):
        assert info["samples_last_epoch"] == len(range(r, used, ranks))
        assert info["batches_last_epoch"] == -(-used // b)
    if name == "3 ranks last batch smaller than ranks":
        assert "fewer than the 3 ranks" in done.stderr


def test_uneven_shards_need_the_size_weighting(tmp_path):
    """Control for the uneven case: the plain average over ranks (no weight) of the 2/1/1
    split is not the one-process step, so the size weighting is what makes the runs equal."""
    cfg = config(ranks=3, n=52, batch_size=12, weighted=False)
    done = launch(cfg, str(tmp_path))
    assert done.returncode == 0, done.stderr
    weights = read_rank_outputs(str(tmp_path), 3)[0][0]
    assert max_relative_error(weights, reference_run(cfg)[0]) > 1e-6
