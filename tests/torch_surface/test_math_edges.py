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
