"""Gradients of pieces (``chunk``, ``split``, slices) added up as regions by the backward
engine (``ffnn.region_gradient``): torch's gradients whatever else uses the same tensor,
and no array handed to an op or a hook changed afterwards."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn.region_gradient import Region

PROGRAMS = {
    "chunks summed": lambda lib, x: sum(x.chunk(4, dim=1)),
    "split, reordered": lambda lib, x: lib.cat(x.split(3, dim=0)[::-1], dim=0) * 2,
    "overlapping slices": lambda lib, x: x[:, 1:5] * x[:, 3:7] + x[:, :4],
    "pieces and the whole": lambda lib, x: (x * 3)[:, :4].sum() + (x * 3).sum() + x[2:, 1:],
    "strided pieces": lambda lib, x: lib.tanh(x * 1.5)[:, :8:2] + lib.tanh(x * 1.5)[:, 1::2],
    "q, k, v": lambda lib, x: (lambda q, k, v: (q @ k.T).softmax(-1) @ v)(*(x @ x.T).chunk(3, 1)),
    "rows and columns": lambda lib, x: x[0] + x[:, 0] + x[1:3, 2:4].sum() + x[-1],
    "narrow and unbind": lambda lib, x: x.narrow(1, 2, 3).sum(1) + sum(x.unbind(1)),
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_gradients_follow_torch(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 9))
    grads = []
    for lib in (ffnn, torch):
        t = lib.tensor(x, requires_grad=True)
        y = PROGRAMS[name](lib, t)
        w = np.random.default_rng(1).standard_normal(tuple(y.shape))
        (y * lib.tensor(w)).sum().backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_arrays_handed_out_are_not_changed_in_place():
    """A hook keeps the gradient it sees; pieces added later must not write into it."""
    seen = []
    x = ffnn.tensor(np.ones((4, 6)), requires_grad=True)
    middle = x * 2
    middle.register_hook(lambda g: seen.append(g.numpy().copy()) or None)
    kept = []
    y = middle * 1
    y.register_hook(lambda g: kept.append(g) or None)
    (y.sum() + middle[:, :3].sum() * 5).backward()
    assert kept[0].numpy().tolist() == np.ones((4, 6)).tolist()  # untouched since
    expected = np.ones((4, 6))
    expected[:, :3] += 5
    np.testing.assert_array_equal(seen[0], expected)
    np.testing.assert_array_equal(x.grad.numpy(), 2 * expected)


def test_a_region_written_out_is_the_sum_of_its_pieces():
    rng = np.random.default_rng(2)
    for _ in range(300):
        shape = tuple(rng.integers(1, 6, 2))
        parts = []
        for _ in range(rng.integers(1, 4)):
            index = tuple(slice(*sorted(rng.integers(-6, 7, 2))) if rng.random() < 0.6
                          else slice(None) for _ in shape)
            parts.append((index, rng.standard_normal(np.zeros(shape)[index].shape)))
        region = Region(shape, np.float64, *parts[0])
        region.parts = parts
        expected = np.zeros(shape)
        for index, values in parts:
            expected[index] += values
        np.testing.assert_array_equal(region.dense(), expected)
