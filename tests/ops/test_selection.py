"""``where`` and ``masked_fill`` by the compiled select (``ffnn.ops.selection``): the NumPy
reference's values bit for bit, torch's gradients, for every way the operands broadcast."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn
from ffnn import accel
from ffnn.ops import selection

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SHAPES = [  # condition, a, b: each broadcasting as torch allows
    ((64, 128), (64, 128), (64, 128)),
    ((64, 128), (64, 128), ()),
    ((64, 128), (), (64, 128)),
    ((1, 128), (64, 128), (64, 1)),
    ((64, 128), (128,), (64, 128)),
    ((4, 1, 8, 64), (4, 3, 8, 64), (1,)),
]


def _operands(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    (cs, as_, bs) = shapes
    condition = rng.random(cs) > 0.5
    a, b = (rng.standard_normal(s).astype(dtype) for s in (as_, bs))
    a.flat[0], b.flat[-1] = np.nan, -0.0  # a select copies them as they are
    if a.size > 2:
        a.flat[1] = np.inf
    return condition, a, b


def _run(condition, a, b, grad, compiled: bool, monkeypatch, need=(True, True)):
    monkeypatch.setattr(accel, "enabled", compiled)
    ta, tb = (ffnn.tensor(v, requires_grad=n) for v, n in zip((a, b), need))
    y = ffnn.where(ffnn.tensor(condition), ta, tb)
    y.backward(ffnn.tensor(grad))
    return y.numpy(), *(t.grad.numpy() if t.grad is not None else None for t in (ta, tb))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
def test_compiled_where_is_the_reference_and_torch(shapes, dtype, monkeypatch):
    condition, a, b = _operands(shapes, dtype)
    out_shape = np.broadcast_shapes(*shapes)
    grad = np.random.default_rng(1).standard_normal(out_shape).astype(dtype)
    grad.flat[5] = np.inf  # an infinite gradient stays where it is taken, 0 elsewhere
    taken = []
    original = selection.where_forward
    monkeypatch.setattr(selection, "where_forward",
                        lambda *args: taken.append(1) or original(*args))
    compiled = _run(condition, a, b, grad, True, monkeypatch)
    assert taken and all(v is not None for v in compiled)
    reference = _run(condition, a, b, grad, False, monkeypatch)
    y, ga, gb = compiled
    assert y.dtype == dtype and y.tobytes() == reference[0].tobytes()  # bit for bit, -0.0 too
    for ours, theirs in zip((ga, gb), reference[1:]):
        np.testing.assert_array_equal(ours, theirs)  # same sums, same order
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (a, b))
    torch.where(torch.tensor(condition), ta, tb).backward(torch.tensor(grad))
    rtol = 1e-5 if dtype == np.float32 else 1e-13  # float32 sums of 64 terms, torch's order
    np.testing.assert_allclose(ga, ta.grad.numpy(), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("need", [(True, False), (False, True)])
def test_only_the_gradient_asked_for(need, monkeypatch):
    condition, a, b = _operands(SHAPES[0], np.float32)
    grad = np.random.default_rng(2).standard_normal(condition.shape).astype(np.float32)
    compiled = _run(condition, a, b, grad, True, monkeypatch, need)
    reference = _run(condition, a, b, grad, False, monkeypatch, need)
    for ours, theirs, asked in zip(compiled[1:], reference[1:], need):
        assert (ours is None) == (not asked)
        if asked:
            np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("need", [(True, True), (True, False), (False, True)])
def test_a_split_call_is_the_whole_call(need, monkeypatch):
    """From ``accel.PYTHON_SPLIT_MIN`` elements both passes run on OpenBLAS's threads where
    it has two; every element is still the same select."""
    shape = (4 * accel.PYTHON_SPLIT_MIN // 256 + 3, 256)
    condition, a, b = _operands((shape, shape, shape), np.float32, seed=3)
    grad = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    compiled = _run(condition, a, b, grad, True, monkeypatch, need)
    reference = _run(condition, a, b, grad, False, monkeypatch, need)
    assert compiled[0].tobytes() == reference[0].tobytes()
    for ours, theirs in zip(compiled[1:], reference[1:]):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert ours.tobytes() == theirs.tobytes()


def test_masked_fill_and_its_in_place_form_follow_torch():
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((8, 4, 32, 32)).astype(np.float32)
    mask = rng.random((8, 1, 1, 32)) > 0.7  # padding, broadcast over heads and queries
    ours = ffnn.tensor(scores, requires_grad=True)
    theirs = torch.tensor(scores, requires_grad=True)
    filled = ours.masked_fill(ffnn.tensor(mask), -1e9)
    expected = theirs.masked_fill(torch.tensor(mask), -1e9)
    np.testing.assert_array_equal(filled.numpy(), expected.detach().numpy())
    weights = np.random.default_rng(6).standard_normal(scores.shape).astype(np.float32)
    (filled * ffnn.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    in_place = ffnn.tensor(scores).masked_fill_(ffnn.tensor(mask), 0.0)
    np.testing.assert_array_equal(in_place.numpy(),
                                  torch.tensor(scores).masked_fill_(torch.tensor(mask), 0.0))


def test_operands_it_does_not_take_stay_numpys(monkeypatch):
    """Mixed precisions, integers, two scalars and small arrays take NumPy's ``where``."""
    condition = np.random.default_rng(7).random((64, 128)) > 0.5
    a32, a64 = np.ones((64, 128), np.float32), np.zeros((64, 128))
    assert selection.where_forward(condition, a32, a64) is None
    assert selection.where_forward(condition, a32.astype(np.int32), a32.astype(np.int32)) is None
    assert selection.where_forward(condition, np.float32(1.0) * np.ones(()),
                                   np.zeros(())) is None
    assert selection.where_forward(condition[:2, :2], a32[:2, :2], a32[:2, :2]) is None
    y = ffnn.where(ffnn.tensor(condition), ffnn.tensor(a32), ffnn.tensor(a64))
    np.testing.assert_array_equal(y.numpy(), np.where(condition, a32, a64))
