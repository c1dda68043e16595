"""Model outputs → class probabilities as each classification loss declares them
(``ffnn.train._losses.probabilities``: ``Trainer``'s metrics, the estimators'
``predict_proba``), against PyTorch's softmax, exp and sigmoid in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ffnn import nn
from ffnn.train._losses import probabilities


@pytest.mark.parametrize("scale", [1.0, 300.0])  # 300: e^z overflows without the shift
def test_cross_entropy_outputs_give_torchs_softmax(scale, rng):
    logits = rng.standard_normal((50, 7)) * scale
    got = probabilities(nn.CrossEntropyLoss(), logits.astype(np.float32))
    expected = torch.softmax(torch.from_numpy(logits.astype(np.float32).astype(np.float64)),
                             dim=-1).numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-14)


def test_nll_and_bce_outputs_give_torchs_exp_and_sigmoid(rng):
    log_probs = torch.log_softmax(torch.from_numpy(rng.standard_normal((20, 4))), dim=1)
    np.testing.assert_allclose(probabilities(nn.NLLLoss(), log_probs.numpy()),
                               log_probs.exp().numpy(), rtol=1e-15)
    logits = rng.standard_normal((20, 1)) * 40
    np.testing.assert_allclose(probabilities(nn.BCEWithLogitsLoss(), logits),
                               torch.sigmoid(torch.from_numpy(logits)).numpy(), rtol=1e-14)
