"""``scatter.add_at``, the gradient of every gather: ``np.add.at``'s result bit for bit (the
same additions in the same order), and torch's gradients for the ops built on it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel
from ffnn.ops import scatter
from tests.helpers import check_op

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

INDICES = {  # index, the shape of out, the shape of the values added
    "rows": (lambda rng: rng.integers(-50, 50, 300), (50, 7), (300, 7)),
    "rows of a 3-d table": (lambda rng: rng.integers(0, 9, (4, 30)), (9, 2, 3), (4, 30, 2, 3)),
    "rows, broadcast values": (lambda rng: rng.integers(0, 20, 64), (20, 5), (5,)),
    "rows as (a, :)": (lambda rng: (rng.integers(0, 20, 64), slice(None)), (20, 5), (64, 5)),
    "columns": (lambda rng: (slice(None), rng.integers(0, 6, 40)), (8, 6), (8, 40)),
    "a mask": (lambda rng: rng.random((30, 6)) > 0.4, (30, 6), None),
    "two arrays": (lambda rng: (rng.integers(0, 10, 100), rng.integers(0, 4, 100)), (10, 4),
                   (100,)),
    "gather's positions": (lambda rng: (np.arange(12)[:, None], rng.integers(0, 9, (12, 5))),
                           (12, 9), (12, 5)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(INDICES))
def test_compiled_add_at_is_numpys(name, dtype, monkeypatch):
    monkeypatch.setattr(accel, "enabled", True)  # also where FFNN_ACCEL=0 turned it off
    rng = np.random.default_rng(0)
    make_index, shape, values_shape = INDICES[name]
    index = make_index(rng)
    if values_shape is None:
        values_shape = np.zeros(shape)[index].shape
    values = rng.standard_normal(values_shape).astype(dtype)
    start = rng.standard_normal(shape).astype(dtype)
    expected = start.copy()
    np.add.at(expected, index, values)
    calls = []
    kernels = accel._kernels()
    for kernel in ("add_rows_at", "add_at_positions"):
        original = getattr(kernels, kernel)
        monkeypatch.setattr(kernels, kernel, lambda *a, f=original: calls.append(1) or f(*a))
    got = start.copy()
    scatter.add_at(got, index, values)
    assert got.tobytes() == expected.tobytes()
    assert calls or name == "a mask"  # compiled (a mask needs no adding up: assigned)


def test_what_numpy_refuses_it_refuses_too():
    out = np.zeros((5, 3), np.float32)
    with pytest.raises(IndexError):
        scatter.add_at(out, np.arange(40) % 7, np.ones((40, 3), np.float32))
    with pytest.raises(ValueError):
        scatter.add_at(out, np.arange(40) % 5, np.ones((40, 2), np.float32))
    assert not out.any()


@pytest.mark.parametrize("case", ["embedding", "index_select", "rows", "gather", "mask"])
def test_gradients_of_gathers_follow_torch(case):
    rng = np.random.default_rng(1)
    idx = rng.integers(0, 40, 600)
    x = rng.standard_normal((40, 16))
    ops = {
        "embedding": lambda lib, w, i: lib.nn.functional.embedding(i.reshape(20, 30), w),
        "index_select": lambda lib, w, i: w.index_select(0, i),
        "rows": lambda lib, w, i: w[i],
        "gather": lambda lib, w, i: w.gather(1, (i.reshape(40, 15) % 16)),
        "mask": lambda lib, w, i: w[w > 0.3],
    }
    check_op(ops[case], x, idx)


def test_repeated_rows_add_up_in_an_embedding():
    weight = ffnn.nn.Embedding(5, 3)
    ids = ffnn.tensor(np.array([[1, 1, 4], [1, 0, 4]] * 30))
    weight(ids).sum().backward()
    counts = np.bincount(ids.numpy().ravel(), minlength=5)
    np.testing.assert_array_equal(weight.weight.grad.numpy(), np.repeat(counts[:, None], 3, 1))
    theirs = torch.nn.Embedding(5, 3)
    theirs(torch.tensor(ids.numpy())).sum().backward()
    np.testing.assert_array_equal(weight.weight.grad.numpy(), theirs.weight.grad.numpy())
