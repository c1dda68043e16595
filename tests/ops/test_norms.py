"""Fused normalisation ops (batch, layer, RMS) and dropout, against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check_op, randn, seeds
from hypothesis import given, settings
from hypothesis import strategies as st

import ffnn


def F(lib):  # noqa: N802 - the usual alias
    return lib.nn.functional


@settings(max_examples=8)
@given(seed=seeds, n=st.integers(2, 5), c=st.integers(1, 4), length=st.sampled_from([None, 3]),
       affine=st.booleans())
def test_batch_norm_training_statistics(seed, n, c, length, affine):
    shape = (n, c) if length is None else (n, c, length)
    x, w, b = randn(seed, *shape), randn(seed + 1, c), randn(seed + 2, c)
    if affine:
        check_op(lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
                 x, w, b)
    else:
        check_op(lambda lib, x: F(lib).batch_norm(x, None, None, training=True), x)


@given(seed=seeds, shape=st.sampled_from([(3, 4), (2, 3, 4), (5, 2, 3)]), ndim=st.integers(1, 2),
       affine=st.sampled_from(["both", "weight", "none"]))
def test_layer_norm(seed, shape, ndim, affine):
    normalized = shape[-ndim:]
    x, w, b = randn(seed, *shape), randn(seed + 1, *normalized), randn(seed + 2, *normalized)
    if affine == "both":
        check_op(lambda lib, x, w, b: F(lib).layer_norm(x, normalized, w, b), x, w, b)
    elif affine == "weight":
        check_op(lambda lib, x, w: F(lib).layer_norm(x, normalized, w, None, eps=1e-3), x, w)
    else:
        check_op(lambda lib, x: F(lib).layer_norm(x, normalized), x)


@given(seed=seeds, shape=st.sampled_from([(3, 4), (2, 3, 4)]), ndim=st.integers(1, 2),
       eps=st.sampled_from([None, 1e-6]))
def test_rms_norm(seed, shape, ndim, eps):
    normalized = shape[-ndim:]
    x, w = randn(seed, *shape), randn(seed + 1, *normalized)
    check_op(lambda lib, x, w: F(lib).rms_norm(x, normalized, w, eps=eps), x, w)
    check_op(lambda lib, x: F(lib).rms_norm(x, normalized, eps=eps), x)


def test_norm_shape_errors():
    with pytest.raises(ValueError, match=r"does not end with normalized_shape \(3,\)"):
        F(ffnn).layer_norm(ffnn.zeros(2, 4), (3,))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F(ffnn).batch_norm(ffnn.zeros(1, 4), None, None, training=True)


# ----- dropout ----------------------------------------------------------------------------
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
