"""Result dtypes, copies and edge values against torch's, as a differential fuzzer of the
tensor ops met them: float functions of integers and bools (float32, not float64 or
float16), ``cat`` of mixed dtypes and onto an empty accumulator, ``masked_fill`` and
``clamp`` in torch's dtype, ``flip`` and ``repeat`` copying, ``%=`` and ``//=`` in place,
``std``'s gradient on a constant slice, ``logsumexp`` of infinities, ``fmod`` and ``//`` in
the operands' dtype, 0-d tensors reduced along dim 0, ``topk`` with NaN, a one-element
tensor written into a scalar slot, NumPy scalars counted as Python numbers in ``**``, ``//``,
``%``, ``&``, ``|``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn

INF, NAN = float("inf"), float("nan")

CASES = {
    "sigmoid of int32": lambda lib: lib.tensor([1, 2, 3], dtype=lib.int32).sigmoid(),
    "sqrt of int64": lambda lib: lib.sqrt(lib.tensor([1, 2])),
    "exp of bool": lambda lib: lib.exp(lib.tensor([True, False])),
    "tanh, log, sin of int": lambda lib: lib.stack([lib.tensor([1, 2]).tanh(),
                                                    lib.log(lib.tensor([1, 2])),
                                                    lib.tensor([1, 2]).sin()]),
    "int ** 0.5": lambda lib: lib.tensor([1, 4]) ** 0.5,
    "int ** 2": lambda lib: lib.tensor([3, 4]) ** 2,
    "int32 / float64 0-d": lambda lib: lib.tensor([3], dtype=lib.int32) / lib.tensor(
        2.0, dtype=lib.float64),
    "int / int": lambda lib: lib.tensor([3, 4]) / lib.tensor([2, 8]),
    "int32 // 2.5": lambda lib: lib.tensor([7, 9], dtype=lib.int32) // 2.5,
    "fmod of int": lambda lib: lib.fmod(lib.tensor([5, -3]), 2),
    "fmod float32 by int": lambda lib: lib.fmod(lib.tensor([5.5, -3.0]), lib.tensor([2, 2])),
    "cat float32 and int32": lambda lib: lib.cat([lib.tensor([1.0, 2.0]),
                                                 lib.tensor([3, 4], dtype=lib.int32)]),
    "stack float32 and float64": lambda lib: lib.stack([lib.ones(2),
                                                       lib.ones(2, dtype=lib.float64)]),
    "cat onto an empty accumulator": lambda lib: lib.cat(
        (lib.cat((lib.tensor([]), lib.ones(2, 3))), lib.zeros(1, 3))),
    "masked_fill of int with 0.5": lambda lib: lib.tensor([1, 2]).masked_fill(
        lib.tensor([False, True]), 0.5),
    "masked_fill of bool": lambda lib: lib.tensor([True, False]).masked_fill(
        lib.tensor([True, False]), 0.5),
    "clamp of int to 1.5": lambda lib: lib.tensor([1, 2]).clamp(max=1.5),
    "clamp of bool": lambda lib: lib.tensor([True, False]).clamp(min=0),
    "clamp by float64 tensor": lambda lib: lib.tensor([1.0, 2.0]).clamp(
        min=lib.tensor([1.5, 0.0], dtype=lib.float64)),
    "logsumexp of -inf": lambda lib: lib.logsumexp(lib.tensor([[-INF, -INF], [1.0, 2.0]]), 1),
    "logsumexp with inf": lambda lib: lib.tensor([INF, 1.0]).logsumexp(0),
    "0-d sum along 0": lambda lib: lib.tensor(5.0).sum(0),
    "0-d max along -1": lambda lib: lib.tensor(5.0).max(-1).values,
    "0-d cumsum": lambda lib: lib.tensor(3.0).cumsum(0),
    "0-d argsort": lambda lib: lib.tensor(3.0).argsort(),
    "0-d topk": lambda lib: lib.tensor(3.0).topk(1).values,
    "topk with nan": lambda lib: lib.tensor([[1.0, NAN, 3.0]]).topk(2).indices,
    "float32 ** np.float64": lambda lib: lib.tensor([1.0, 2.0]) ** np.float64(2.5),
    "float32 // np.int64": lambda lib: lib.tensor([3.0, 5.0]) // np.int64(2),
    "int32 // np.int64": lambda lib: lib.tensor([3, 5], dtype=lib.int32) // np.int64(2),
    "int32 % np.int64": lambda lib: lib.tensor([3, -5], dtype=lib.int32) % np.int64(2),
    "int32 & np.int64": lambda lib: lib.tensor([3, 6], dtype=lib.int32) & np.int64(2),
    "int32 | np.int64": lambda lib: lib.tensor([3, 4], dtype=lib.int32) | np.int64(1),
    "bool ** 2": lambda lib: lib.tensor([True, False]) ** 2,
    "uint8 + -1 wraps": lambda lib: lib.tensor([1, 200], dtype=lib.uint8) + -1,
    "uint8 + 300 wraps": lambda lib: lib.tensor([1, 200], dtype=lib.uint8) + 300,
    "int8 * 200 wraps": lambda lib: lib.tensor([100, -3], dtype=lib.int8) * 200,
    "gather with sparse_grad": lambda lib: lib.tensor([[1.0, 2.0]]).gather(
        1, lib.tensor([[1, 0]]), sparse_grad=False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dtypes_shapes_and_values_match_torch(name):
    ours, theirs = CASES[name](ffnn), CASES[name](torch)
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def _copies_and_in_place(lib):
    a = lib.arange(4.0).reshape(2, 2)
    flipped = a.flip(0)
    flipped[0, 0] = 100.0
    repeated = lib.tensor([[1.0, 2.0]]).repeat(3, 1)
    repeated[0, 0] = 9.0
    same = lib.ones(2, 2)
    copy = same.repeat(1, 1)
    copy[0, 0] = 7.0
    b = lib.tensor([5.0, 3.0])
    alias = b
    b %= 2
    c = lib.tensor([7.0, 9.0])
    alias_c = c
    c //= 2
    p = lib.zeros(4)
    p[2] = lib.tensor([[0.7]])
    return [a.tolist(), repeated.tolist(), same.tolist(), alias.tolist(), alias_c.tolist(),
            p.tolist()]


def test_copies_and_in_place_operators_as_torch():
    """``flip`` and ``repeat`` give memory of their own; ``%=`` and ``//=`` write the
    tensor (its aliases see it); a [1, 1] tensor fills a scalar slot."""
    assert _copies_and_in_place(ffnn) == _copies_and_in_place(torch)
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError):
            x = lib.tensor([5, 3])
            x %= 2.5  # a float result cannot be written into an int64 tensor


def _std_gradients(lib):
    x = lib.tensor([1.0, 1.0], requires_grad=True)
    x.std().backward()
    y = lib.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], dtype=lib.float64, requires_grad=True)
    (y.std(1) * lib.tensor([1.0, 2.0], dtype=lib.float64)).sum().backward()
    q = lib.tensor([[1.0, 2.0], [3.0, 3.0]], dtype=lib.float64, requires_grad=True)
    g, = lib.autograd.grad(q.std(1).sum(), q, create_graph=True)
    (g * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
    return [x.grad.tolist(), y.grad.tolist(), q.grad.tolist()]


def test_std_gradient_is_zero_on_a_constant_slice_as_torch():
    """A constant feature column normalised by hand: its std is 0 and so is its gradient
    (not nan), in first and second order."""
    ours, theirs = _std_gradients(ffnn), _std_gradients(torch)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_variance_with_no_degree_of_freedom_is_inf_or_nan_not_an_exception():
    for lib in (ffnn, torch):
        x = lib.tensor([2.0], requires_grad=True)
        with pytest.warns(UserWarning) if lib is torch else _no_warning():
            s = x.std()
        s.backward()
        assert np.isnan(s.item()) and np.isnan(x.grad.numpy()).all()


def _no_warning():
    import contextlib

    return contextlib.nullcontext()


def test_clamp_by_tensors_passes_the_gradient_to_the_bound_that_binds_as_torch():
    grads = []
    for lib in (ffnn, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        low = lib.tensor(1.5, requires_grad=True)
        high = lib.tensor([2.0, 2.5, 2.5], requires_grad=True)
        out = lib.clamp(x, min=low, max=high)
        (out * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        grads.append([out.tolist(), x.grad.tolist(), low.grad.item(), high.grad.tolist()])
    assert grads[0] == grads[1]


@pytest.mark.parametrize("make, message", [
    (lambda lib: lib.zeros(2, 3, 3).flatten(-1, -2), "start_dim cannot come after end_dim"),
    (lambda lib: lib.nn.Flatten(-1, -2)(lib.zeros(2, 3, 3)), "start_dim cannot come after"),
    (lambda lib: lib.cat([lib.tensor(1.0), lib.tensor(2.0)]),
     r"zero-dimensional tensor \(at position 0\) cannot be concatenated")])
def test_what_torch_refuses_is_refused_with_its_message(make, message):
    """A reversed flatten range (it made a wrong shape silently) and ``cat`` of 0-d tensors
    (an IndexError): torch's RuntimeError and words."""
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError, match=message):
            make(lib)


@pytest.mark.parametrize("dtype,top", [("float32", 2 ** 24), ("float64", 2 ** 53),
                                       ("int32", 2 ** 31 - 1), ("uint8", 255), ("bool", 1)])
def test_random_without_bounds_draws_over_torchs_range_of_the_dtype(dtype, top):
    ffnn.manual_seed(0)
    x = ffnn.zeros(4000, dtype=getattr(ffnn, dtype)).random_().numpy().astype(np.float64)
    assert x.min() >= 0 and x.max() <= top and (x == np.round(x)).all()
    assert x.max() > top / 2  # the whole range, not [0, 1) or a small one
