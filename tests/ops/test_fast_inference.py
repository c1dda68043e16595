"""The inference kernels: GELU against erf in float64 (to float32 round-off), residual +
LayerNorm and packed attention against torch, with the compiled kernels and without."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ffnn import accel
from ffnn.ops.fast_inference import Packing, add_layer_norm_, gelu_, packed_attention
from tests.helpers import assert_close


@pytest.fixture(params=[True, False] if accel.available else [False],
                ids=lambda compiled: "compiled" if compiled else "numpy")
def compiled(request, monkeypatch):
    monkeypatch.setattr(accel, "enabled", request.param)
    return request.param


def _gelu64(x: np.ndarray) -> np.ndarray:
    return np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])


def test_gelu_float32_is_within_float32_round_off_of_erf(compiled):
    x = np.concatenate([np.linspace(-12, 12, 200_001), np.geomspace(1e-30, 1e4, 5_000),
                        -np.geomspace(1e-30, 1e4, 5_000)]).astype(np.float32)
    expected = _gelu64(x)
    out = gelu_(x.copy())
    assert out.dtype == np.float32
    ulp = np.spacing(np.abs(expected).astype(np.float32)).astype(np.float64)
    error = np.abs(out - expected)
    # x·Φ: Φ's relative error (``normal_cdf_f32``: 3.7e-7 below |x| = 1.77) and a rounding
    assert (error <= 4 * ulp + 2e-8 * np.maximum(1.0, np.abs(x))).all()


def test_gelu_in_place_special_values_and_float64(compiled):
    x = np.array([0.0, -0.0, 30.0, 3e38, -30.0, -3e38, np.nan, np.inf], dtype=np.float32)
    y = gelu_(x)
    assert y is x
    np.testing.assert_array_equal(y[:6], np.array([0, 0, 30, 3e38, 0, 0], np.float32))
    assert np.isnan(y[6]) and y[7] == np.inf
    x64 = np.random.default_rng(0).standard_normal((50, 7)) * 4
    assert_close(gelu_(x64.copy()), _gelu64(x64.reshape(-1)).reshape(50, 7))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("affine", [True, False])
def test_add_layer_norm_matches_torch(compiled, dtype, affine):
    rng = np.random.default_rng(1)
    x, residual = (rng.standard_normal((37, 24)).astype(dtype) * 3 + 1 for _ in range(2))
    weight = rng.standard_normal(24).astype(dtype) if affine else None
    bias = rng.standard_normal(24).astype(dtype) if affine else None
    expected = torch.nn.functional.layer_norm(
        torch.from_numpy(x + residual), (24,), None if weight is None else torch.from_numpy(
            weight), None if bias is None else torch.from_numpy(bias), eps=1e-12).numpy()
    out = add_layer_norm_(x, residual, weight, bias, 1e-12)
    assert out is x
    assert_close(out, expected, dtype=dtype)


def test_packing_groups_cover_every_row_once_with_little_padding():
    lengths = [9, 1, 9, 40, 3, 33, 2, 9, 100]
    packing = Packing(lengths)
    assert packing.total == sum(lengths)
    np.testing.assert_array_equal(packing.starts, np.cumsum([0] + lengths[:-1]))
    owner = np.full(packing.total, -1)
    for index, g in enumerate(packing.groups):
        rows = np.arange(packing.total)[g.dest]
        assert (owner[rows] == -1).all()  # no row written twice
        owner[rows] = index
    assert (owner >= 0).all()
    for index, g in enumerate(packing.groups):
        members = [n for n, start in zip(lengths, packing.starts) if owner[start] == index]
        assert len(members) == g.count and max(members) == g.length
        assert g.length - min(members) <= max(g.length // 4, 16)
    assert len(packing.groups) == 3  # {100}, {40, 33}, {9, 9, 9, 3, 2, 1}
    with pytest.raises(ValueError, match="lengths must be a 1-D array of positive integers"):
        Packing([3, 0])


@pytest.mark.parametrize("lengths", [[5, 1, 5, 3, 9, 9, 2], [4, 4, 4], [1], [30, 2, 17]])
def test_packed_attention_matches_torch_per_sequence(lengths):
    rng = np.random.default_rng(2)
    heads, head = 3, 4
    width = heads * head
    qkv = rng.standard_normal((sum(lengths), 3 * width))
    scale = 0.37
    out = packed_attention(qkv, Packing(lengths), heads, scale)
    start = 0
    for n in lengths:
        rows = torch.from_numpy(qkv[start:start + n]).reshape(n, 3, heads, head)
        q, k, v = (rows[:, i].transpose(0, 1) for i in range(3))  # [H, n, d]
        expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=scale)
        assert_close(out[start:start + n], expected.transpose(0, 1).reshape(n, width).numpy())
        start += n
