"""The dropout op (ffnn.ops.dropout) through F.dropout: inverted, seeded, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn


def F(lib):  # noqa: N802 - the usual alias
    return lib.nn.functional


def test_dropout_is_inverted_and_seeded():
    x = ffnn.tensor(np.ones((200, 50)), requires_grad=True)
    g1, g2 = ffnn.Generator(5), ffnn.Generator(5)
    y1 = F(ffnn).dropout(x, 0.3, generator=g1)
    y2 = F(ffnn).dropout(x, 0.3, generator=g2)
    np.testing.assert_array_equal(y1.data, y2.data)  # same seed, same mask
    kept = y1.numpy() != 0
    np.testing.assert_allclose(y1.data[kept], 1 / 0.7)  # survivors scaled by 1/(1-p)
    assert abs(kept.mean() - 0.7) < 0.02  # ~4.5 standard errors for 10,000 draws
    assert abs(y1.data.mean() - 1.0) < 0.03  # expected value preserved
    y1.backward(np.ones_like(x.data))
    np.testing.assert_array_equal(x.grad, y1.data)  # gradient goes through the same mask
    y3 = F(ffnn).dropout(x, 0.3, generator=ffnn.Generator(6))
    assert (y3.data != y1.data).any()


def test_dropout_global_seed_and_identity_cases():
    x = ffnn.tensor(np.ones(100))
    ffnn.manual_seed(11)
    a = F(ffnn).dropout(x, 0.5)
    ffnn.manual_seed(11)
    np.testing.assert_array_equal(a.data, F(ffnn).dropout(x, 0.5).data)
    assert F(ffnn).dropout(x, 0.5, training=False) is x
    assert F(ffnn).dropout(x, 0.0) is x
    assert (F(ffnn).dropout(x, 1.0).data == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1. Received: p=1.5"):
        F(ffnn).dropout(x, 1.5)


def test_dropout_dtype_kept():
    for dtype in (np.float32, np.float64):
        x = ffnn.tensor(np.ones(10, dtype), requires_grad=True)
        y = F(ffnn).dropout(x, 0.2)
        y.sum().backward()
        assert y.dtype == dtype and x.grad.dtype == dtype


def test_torch_dropout_expectation_agrees():
    # same statistics as torch's dropout (scale 1/(1-p) on survivors)
    t = torch.nn.functional.dropout(torch.ones(10000, dtype=torch.float64), 0.25)
    f = F(ffnn).dropout(ffnn.tensor(np.ones(10000)), 0.25)
    assert set(np.unique(t.numpy())) == set(np.unique(f.data))


def test_dropout_gradient_matches_finite_differences():
    # the same seed on every call draws the same mask, so the op is a fixed linear map
    x = ffnn.tensor(np.random.default_rng(0).normal(size=(6, 5)), requires_grad=True)
    op = lambda t: F(ffnn).dropout(t, 0.4, generator=ffnn.Generator(3))  # noqa: E731
    assert ffnn.gradcheck(op, (x,))
    mask = op(x).numpy() != 0
    assert 0 < mask.sum() < mask.size  # some kept, some dropped: the check saw both


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_the_keep_mask_keeps_a_fraction_one_minus_p(p):
    """32 random bits per entry compared with round(p·2³²): a Bernoulli(1 - p) mask, the
    same for the same generator state, of any shape (odd sizes use half a 64-bit draw)."""
    from ffnn.ops.dropout import keep_mask

    mask = keep_mask(np.random.default_rng(7), (999, 1001), p)
    again = keep_mask(np.random.default_rng(7), (999, 1001), p)
    assert mask.shape == (999, 1001) and mask.dtype == bool
    np.testing.assert_array_equal(mask, again)
    assert abs(mask.mean() - (1 - p)) < 3e-3  # ~6 standard errors for 10⁶ draws
    if p > 0:  # no pattern along either axis: the spread of row and column means is binomial
        rows, columns = mask.mean(axis=1), mask.mean(axis=0)
        assert abs(rows.std() / np.sqrt(p * (1 - p) / 1001) - 1) < 0.15
        assert abs(columns.std() / np.sqrt(p * (1 - p) / 999) - 1) < 0.15
