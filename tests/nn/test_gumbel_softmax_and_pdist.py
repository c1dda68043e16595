"""F.gumbel_softmax (a differentiable categorical sample; its hard form's straight-through
gradient; the argmax's frequencies) and F.pdist against torch (values and gradients)."""

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close


def test_gumbel_softmax_samples_the_categorical_distribution():
    ffnn.manual_seed(0)
    logits = ffnn.tensor([[1.0, 0.0, -1.0, 2.0]]).expand(20000, 4)
    soft = ffnn.nn.functional.gumbel_softmax(logits, tau=0.7)
    np.testing.assert_allclose(soft.sum(1).numpy(), 1.0, rtol=1e-6)
    counts = np.bincount(soft.numpy().argmax(1), minlength=4) / 20000
    probabilities = np.exp([1.0, 0.0, -1.0, 2.0]) / np.exp([1.0, 0.0, -1.0, 2.0]).sum()
    error = np.sqrt(probabilities * (1 - probabilities) / 20000)
    assert np.all(np.abs(counts - probabilities) < 5 * error)  # argmax(l + g) ~ softmax(l)


def test_hard_gumbel_softmax_is_one_hot_with_the_soft_samples_gradient():
    logits = ffnn.randn(6, 5, requires_grad=True)
    weights = ffnn.randn(6, 5)
    ffnn.manual_seed(3)
    hard = ffnn.nn.functional.gumbel_softmax(logits, tau=0.5, hard=True)
    (hard * weights).sum().backward()
    straight_through = logits.grad.numpy().copy()
    values = hard.detach().numpy()
    assert set(np.unique(values)) == {0.0, 1.0} and np.all(values.sum(1) == 1)
    logits.grad = None
    ffnn.manual_seed(3)  # the same noise
    soft = ffnn.nn.functional.gumbel_softmax(logits, tau=0.5)
    (soft * weights).sum().backward()
    np.testing.assert_allclose(straight_through, logits.grad.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(values.argmax(1), soft.detach().numpy().argmax(1))


@pytest.mark.parametrize("p", [2.0, 1.0, 1.5, 3.0])
def test_pdist_matches_torch(p):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3))
    x[4] = x[1]  # equal rows: distance 0, gradient 0
    found = []
    for lib in (ffnn, torch):
        t = lib.tensor(x, requires_grad=True)
        d = lib.nn.functional.pdist(t, p)
        (d * lib.tensor(np.linspace(0.5, 2.0, d.numel()))).sum().backward()
        found.append((d.detach().numpy(), t.grad.numpy()))
    assert_close(found[0][0], found[1][0], what="distances")
    assert_close(found[0][1], found[1][1], what="gradient")
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors"):
        ffnn.nn.functional.pdist(ffnn.ones(3))
