"""Fused normalisation ops (batch, layer, RMS), against torch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ffnn
from tests.helpers import check_op, randn, seeds


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
