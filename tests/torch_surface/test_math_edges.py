"""Element-wise math and reductions at the edges learners meet, against torch: a bool mask
through ``tril``/``triu`` (a causal attention mask), an integer ``dtype=`` of sums and
products, NaN in a descending sort and in ``unique``, float16 running sums, ``arange`` of an
integer dtype with fractional bounds, ``nan_to_num`` and ``square`` of integers and bools."""

from __future__ import annotations

import numpy as np
import torch

import ffnn


def _plain(value):
    """A tensor as (dtype name, values); anything else as it is."""
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return str(value.dtype).replace("torch.", ""), np.asarray(value.tolist()).tolist()
    return value


def _masks(lib):
    m = lib.ones(3, 3, dtype=lib.bool)
    causal = lib.zeros(3, 3).masked_fill(~lib.tril(m), float("-inf"))
    return [lib.tril(m), lib.triu(m, 1), causal, m.clone().tril_(),
            lib.tril(lib.arange(9).view(3, 3), -1)]


def _dtyped(lib):
    t = lib.tensor([100, 100], dtype=lib.int8)
    pair = lib.tensor([[1, 2]])
    return [t.sum(dtype=lib.int8), pair.sum(1, dtype=lib.int32), pair.prod(dtype=lib.int16),
            lib.tensor([1, 2]).cumprod(0, dtype=lib.int32),
            lib.tensor([1, 2]).cumsum(0, dtype=lib.int32),
            lib.tensor([1, 2]).nansum(dtype=lib.int32)]


def _nans(lib):
    nan = float("nan")
    values, indices = lib.sort(lib.tensor([1.0, nan, 3.0, float("inf"), nan]), descending=True)
    unique, counts = lib.unique(lib.tensor([nan, 1.0, nan, 1.0]), return_counts=True)
    return [values, indices, lib.argsort(lib.tensor([[2.0, nan], [nan, 1.0]]), 1, True),
            unique, counts]


def _others(lib):
    half = lib.full((3000,), 0.1, dtype=lib.float16).cumsum(0)[-1]
    ranges = [lib.arange(*bounds, dtype=lib.int64) for bounds in
              ((2.5,), (-0.5, 2), (0, 3, 1.5), (1.9, 5.9, 1.9), (5, 0, -1.5))]
    return [half, *ranges, lib.nan_to_num(lib.tensor([0, 1, 2])),
            lib.square(lib.tensor([True, False])), lib.tensor([True]).square()]


def test_masks_sums_sorts_and_ranges_as_torch():
    for case in (_masks, _dtyped, _nans, _others):
        ours = [_plain(v) for v in case(ffnn)]
        theirs = [_plain(v) for v in case(torch)]
        assert [o[0] for o in ours] == [t[0] for t in theirs], case.__name__
        for (_, mine), (_, value) in zip(ours, theirs):
            np.testing.assert_array_equal(np.asarray(mine, float), np.asarray(value, float))


def _crashes_before(lib):
    """Calls torch runs that raised here: nonzero of a 0-d tensor, repeat_interleave of
    counts alone, diff of bools (their exclusive or)."""
    out = []
    for value in (5, 0):
        t = lib.tensor(value)
        out += [lib.nonzero(t), *lib.nonzero(t, as_tuple=True), lib.argwhere(t)]
    return out + [lib.repeat_interleave(lib.tensor([2, 0, 1])),
                  lib.diff(lib.tensor([True, False, False, True])),
                  lib.diff(lib.tensor([[True, False, True]]), n=2, dim=1)]


def test_zero_d_nonzero_counts_and_bool_differences_as_torch():
    ours, theirs = [_plain(v) for v in _crashes_before(ffnn)], [_plain(v) for v in
                                                              _crashes_before(torch)]
    assert ours == theirs


def test_the_exponents_gradient_as_torchs():
    """d(aᵇ)/db = aᵇ ln a: NaN for a < 0, 0 at a = 0 with b ≥ 0, -inf at a = 0 with b < 0."""
    grads = []
    for lib in (ffnn, torch):
        a = lib.tensor([-2.0, 0.0, 0.0, 3.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([2.0, 2.0, -1.0, 0.5, 0.0], dtype=lib.float64, requires_grad=True)
        (a ** b).sum().backward()
        second, = lib.autograd.grad((a ** b).sum(), b, create_graph=True)
        grads.append([b.grad.tolist(), second.tolist()])
    np.testing.assert_array_equal(np.asarray(grads[0]), np.asarray(grads[1]))
