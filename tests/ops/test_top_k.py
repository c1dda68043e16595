"""``topk``'s indices without sorting whole rows: the first k of a stable sort, index for
index, compiled and not, with ties, NaN and every axis; values and gradients as torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel
from ffnn.ops.top_k import top_k_indices


def _keys(rng, shape, kind):
    if kind == "ties":
        return rng.integers(-3, 4, shape).astype(np.float32)
    if kind == "int":
        return rng.integers(-5, 5, shape)
    keys = rng.standard_normal(shape)
    if kind == "nan":
        keys.flat[rng.integers(0, keys.size, max(1, keys.size // 7))] = np.nan
    return keys


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("kind", ["float", "ties", "int", "nan"])
def test_it_is_the_stable_sorts_first_k(kind, compiled, monkeypatch):
    monkeypatch.setattr(accel, "enabled", compiled and accel.available)
    rng = np.random.default_rng(0)
    for _ in range(150):
        shape = tuple(rng.integers(1, 40, rng.integers(1, 4)))
        dim = int(rng.integers(-len(shape), len(shape)))
        keys = _keys(rng, shape, kind)
        for k in {0, 1, int(rng.integers(0, shape[dim] + 1)), shape[dim]}:
            expected = np.argsort(keys, axis=dim, kind="stable")
            expected = np.take(expected, np.arange(k), axis=dim)
            got = top_k_indices(keys, k, dim)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, expected, err_msg=f"{shape} dim={dim} k={k}")


@pytest.mark.parametrize("largest", [True, False])
def test_topk_values_and_gradient_follow_torch(largest):
    x = np.random.default_rng(1).standard_normal((64, 300))
    ours = ffnn.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    values, indices = ours.topk(5, dim=1, largest=largest)
    expected = theirs.topk(5, dim=1, largest=largest)
    np.testing.assert_array_equal(values.numpy(), expected.values.detach().numpy())
    np.testing.assert_array_equal(indices.numpy(), expected.indices.numpy())
    weights = np.arange(5.0)
    (values * ffnn.tensor(weights)).sum().backward()
    (expected.values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
