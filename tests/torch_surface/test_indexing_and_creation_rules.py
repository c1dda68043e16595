"""Indices and created tensors read as torch reads them (``ffnn.indexing``,
``ffnn.tensor._inferred_dtype``), against torch: an integer among advanced indices applied
first (NumPy would move the broadcast axes to the front), a 0-d integer tensor as an integer
(a view), a list holding sequences or tensors as a tuple, a uint8 mask, an empty list; the
dtype of ``torch.tensor`` of 0-d tensors and NumPy scalars, ``as_tensor`` of Python ints,
copies that do not alias their source, integer casts without gradients, sums of uint8."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ffnn


def _grid(lib):
    return lib.arange(24.0).reshape(2, 3, 4)


GETS = {
    "int, slice, list": lambda lib: _grid(lib)[0, :, [1, 2]],
    "int between lists": lambda lib: _grid(lib)[[0, 1], 0, [1, 2]],
    "list, slice, int": lambda lib: _grid(lib)[[1, 0], :, 3],
    "int, ellipsis, list": lambda lib: _grid(lib)[1, ..., [0, 3]],
    "int, None, list": lambda lib: _grid(lib)[1, None, [0, 2]],
    "0-d tensor, slice, mask": lambda lib: _grid(lib)[lib.tensor(1), 1:3,
                                                       lib.tensor([False, True, True, False])],
    "slice, 0-d tensor, list": lambda lib: _grid(lib)[:, lib.tensor(2), [0, 1]],
    "list of lists": lambda lib: _grid(lib)[[[0, 1], [1, 0]]],
    "list holding a list": lambda lib: _grid(lib)[[[0, 1]]],
    "list of 0-d tensors": lambda lib: _grid(lib)[[lib.tensor(0), lib.tensor(1)]],
    "list holding a slice": lambda lib: _grid(lib)[[0, slice(None), 2]],
    "empty list": lambda lib: _grid(lib)[[]],
    "uint8 mask": lambda lib: lib.arange(4.0)[lib.tensor([0, 1, 1, 0], dtype=lib.uint8)],
    "plain list": lambda lib: _grid(lib)[[1, 0]],
}


@pytest.mark.parametrize("name", sorted(GETS))
def test_an_index_selects_what_torchs_selects(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's uint8 deprecation
        ours, theirs = GETS[name](ffnn), GETS[name](torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _written(lib):
    x = lib.zeros(2, 3, 3)
    x[0, :, [0, 1, 2]] = lib.arange(9.0).reshape(3, 3)
    y = lib.zeros(2, 3)
    row = y[lib.tensor(1)]
    row.add_(1.0)  # a view, as y[1]: the write reaches y
    y[lib.tensor(0), 1:] = 5.0
    return [x.tolist(), y.tolist()]


def test_writes_through_torch_indices_land_where_torchs_do():
    assert _written(ffnn) == _written(torch)


def _index_gradient(lib):
    w = lib.arange(24.0, dtype=lib.float64).reshape(2, 3, 4).requires_grad_()
    picked = (w * 1)[1, :, [0, 2]]
    (picked * lib.arange(6.0, dtype=lib.float64).reshape(3, 2)).sum().backward()
    return w.grad.tolist()


def test_the_gradient_of_an_integer_and_list_index_as_torchs():
    assert _index_gradient(ffnn) == _index_gradient(torch)


CREATED = {
    "0-d float64 tensors": lambda lib: lib.tensor([lib.tensor(1.5, dtype=lib.float64)] * 2),
    "0-d int32 tensors": lambda lib: lib.tensor([lib.tensor(3, dtype=lib.int32)] * 2),
    "uint8 scalars": lambda lib: lib.tensor([np.uint8(3), np.uint8(250)]),
    "float16 scalar and a float": lambda lib: lib.tensor([np.float16(2), 1.5]),
    "int32 arrays": lambda lib: lib.tensor([np.array([1, 2], dtype=np.int32)] * 2),
    "ints and a bool": lambda lib: lib.tensor([[1, 2], [True, 0]]),
    "float64 scalar": lambda lib: lib.tensor([np.float64(0.1), 2]),
    "empty list": lambda lib: lib.tensor([]),
    "as_tensor of ints": lambda lib: lib.as_tensor([0, 2, 1]),
    "as_tensor of a tuple": lambda lib: lib.as_tensor((1.5, 2)),
    "as_tensor of bools": lambda lib: lib.as_tensor([True, False]),
    "uint8 sum": lambda lib: lib.tensor([1, 0, 1], dtype=lib.uint8).sum() - 5,
    "uint8 sum along 0": lambda lib: lib.tensor([[200, 100]], dtype=lib.uint8).sum(0),
}


@pytest.mark.parametrize("name", sorted(CREATED))
def test_created_tensors_have_torchs_dtype_and_values(name):
    ours, theirs = CREATED[name](ffnn), CREATED[name](torch)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _aliasing(lib):
    a = lib.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's "To copy construct …"
        b = lib.tensor(a)
    b[0] = 5.0
    c = a.to(lib.float32, copy=True)
    c[1] = 6.0
    d = a.to(lib.zeros(1), copy=True)
    d += 1
    array = np.zeros(3, np.float32)
    shared = lib.as_tensor(array, dtype=lib.float32)
    array[2] = 7.0
    return [a.tolist(), shared.tolist()]


def test_copies_do_not_alias_and_as_tensor_shares_as_torchs():
    assert _aliasing(ffnn) == _aliasing(torch)
    with pytest.warns(UserWarning, match="clone"):
        ffnn.tensor(ffnn.ones(2))


def _cast_gradients(lib):
    w = lib.tensor([1.3, 2.7], requires_grad=True)
    flags = [w.long().requires_grad, w.int().requires_grad, w.bool().requires_grad,
             w.to(lib.int64).requires_grad, w.double().requires_grad]
    (w.sum() + (w.long() * 2.0).sum()).backward()
    return flags, w.grad.tolist()


def test_integer_and_bool_casts_carry_no_gradient_as_torchs():
    assert _cast_gradients(ffnn) == _cast_gradients(torch)
