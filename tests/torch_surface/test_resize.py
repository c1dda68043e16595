"""``Tensor.resize_`` / ``resize_as_`` against torch's: the shape over the same flat memory
(shrinking keeps its prefix; growing defines only the old elements, so only those are
compared), the strides and storage offset, the memory shared with the tensor and with a
view's base, the version counter, and torch's errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ffnn


def _each(fn):
    """``fn(lib)`` in both libraries."""
    return fn(ffnn), fn(torch)


def _same(ours, theirs) -> None:
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.stride() == theirs.stride()
    assert ours.storage_offset() == theirs.storage_offset()


@pytest.mark.parametrize("sizes, keyword", [
    ((2, 3), None), (((3, 2),), None), (([6],), None), ((), (2, 3)), ((4,), None),
    (((),), None), ((0,), None), ((1, 2, 1), None), ((2, 0), None)])
def test_resize_to_no_more_elements_keeps_the_flat_prefix_in_place(sizes, keyword):
    def run(lib):
        x = lib.arange(6.0, dtype=lib.float64)
        address = x.data_ptr()
        out = x.resize_(*sizes) if keyword is None else x.resize_(size=keyword)
        assert out is x
        assert x.numel() == 0 or x.data_ptr() == address
        return x

    _same(*_each(run))


def test_resize_takes_a_size_object_and_integer_tensors_as_torch():
    for lib in (ffnn, torch):
        x = lib.arange(6.0).resize_(lib.Size([3, 2]))
        assert tuple(x.shape) == (3, 2)
        assert tuple(lib.arange(6.0).resize_(lib.tensor(2), 3).shape) == (2, 3)


@pytest.mark.parametrize("shape", [(2, 4), (3, 3), (9,)])
def test_resize_to_more_elements_keeps_the_old_ones_first(shape):
    ours, theirs = _each(lambda lib: lib.arange(6.0, dtype=lib.float64).resize_(*shape))
    assert tuple(ours.shape) == tuple(theirs.shape) == shape
    assert ours.stride() == theirs.stride()
    np.testing.assert_array_equal(ours.numpy().reshape(-1)[:6], theirs.numpy().reshape(-1)[:6])


@pytest.mark.parametrize("smaller", [(2, 2), (0,)])
def test_shrinking_then_growing_back_finds_the_old_elements_as_torch(smaller):
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        x.resize_(*smaller)
        x.resize_(3, 2)
        return x

    _same(*_each(run))


def test_resize_of_an_integer_tensor_keeps_its_dtype():
    ours, theirs = _each(lambda lib: lib.arange(6).resize_(3, 1))
    assert ours.dtype == ffnn.int64 and theirs.dtype == torch.int64
    _same(ours, theirs)


def test_a_new_shape_counts_as_an_in_place_change_and_the_same_shape_does_not():
    for lib in (ffnn, torch):
        x = lib.arange(6.0)
        x.resize_(6)
        assert x._version == 0
        x.resize_(2, 3)
        assert x._version == 1


@pytest.mark.parametrize("make", [
    lambda lib: lib.arange(6.0, requires_grad=True),
    lambda lib: lib.arange(6.0, requires_grad=True) * 2,
    lambda lib: (lib.arange(6.0, requires_grad=True) * 2)[:4],
])
@pytest.mark.parametrize("no_grad", [False, True])
def test_a_tensor_that_requires_grad_refuses_as_torch(make, no_grad):
    for lib in (ffnn, torch):
        x = make(lib)
        with pytest.raises(RuntimeError, match="^cannot resize variables that require grad$"):
            if no_grad:
                with lib.no_grad():
                    x.resize_(2, 3)
            else:
                x.resize_(x.shape)  # even to its own shape


@pytest.mark.parametrize("sizes, error", [
    ((-1,), RuntimeError), ((2, -3), RuntimeError), ((2.5,), TypeError), (("a",), TypeError),
])
def test_bad_sizes_raise_torchs_types(sizes, error):
    for lib in (ffnn, torch):
        with pytest.raises(error):
            lib.arange(6.0).resize_(*sizes)
    with pytest.raises(error, match="size"):
        ffnn.arange(6.0).resize_(*sizes)


VIEWS = {
    "row_shrunk": (lambda b: b[1], (2, 2)),
    "row_grown_inside_the_base": (lambda b: b[0], (8,)),
    "row_grown_to_the_end": (lambda b: b[1], (2, 4)),
    "column_same_shape": (lambda b: b[:, 1], (3,)),
    "column_shrunk": (lambda b: b[:, 1], (2,)),
    "transpose_same_shape": (lambda b: b.t(), (4, 3)),
    "transpose_shrunk": (lambda b: b.t(), (2, 3)),
    "reshaped": (lambda b: b.reshape(12), (3, 2)),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_a_view_resized_reads_and_writes_its_base_memory_as_torch(name):
    take, shape = VIEWS[name]

    def run(lib):
        base = lib.arange(12.0, dtype=lib.float64).reshape(3, 4)
        view = take(base)
        assert view.resize_(*shape) is view
        seen = view.clone().contiguous()  # torch's clone keeps the strides, ffnn's not
        view.fill_(-1.0)
        return seen, view, base

    ours, theirs = _each(run)
    for a, b in zip(ours, theirs):
        _same(a, b)


def test_an_in_place_change_of_a_resized_view_in_the_graph_reaches_its_base_as_torch():
    def run(lib):
        w = lib.tensor([[1.5, -2.0], [0.5, 3.0]], dtype=lib.float64, requires_grad=True)
        base = lib.zeros(3, 4, dtype=lib.float64)
        view = base[1].resize_(2, 2)
        view.mul_(w)
        view.add_(w)
        (base * lib.arange(12.0, dtype=lib.float64).reshape(3, 4)).sum().backward()
        return base.detach(), w.grad

    (our_base, our_grad), (their_base, their_grad) = _each(run)
    np.testing.assert_allclose(our_base.numpy(), their_base.numpy(), rtol=1e-12)
    np.testing.assert_allclose(our_grad.numpy(), their_grad.numpy(), rtol=1e-12)


def test_resize_as_takes_the_templates_shape_and_keeps_the_dtype():
    def run(lib):
        x = lib.arange(6, dtype=lib.int32)
        assert x.resize_as_(lib.zeros(2, 2, dtype=lib.float64)) is x
        y = lib.arange(6.0)
        assert lib.resize_as_(y, lib.zeros(3, 1)) is y
        return x, y

    ours, theirs = _each(run)
    for a, b in zip(ours, theirs):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        _same(a, b)


def test_resize_as_refuses_a_template_that_is_not_a_tensor():
    for lib in (ffnn, torch):
        with pytest.raises(TypeError, match="must be Tensor, not list"):
            lib.arange(6.0).resize_as_([2, 3])


def test_a_resized_view_follows_its_base_changed_in_the_graph_as_torch():
    def run(lib):
        w = lib.tensor(np.arange(12.0).reshape(3, 4) / 7, requires_grad=True)
        base = lib.zeros(3, 4, dtype=lib.float64)
        view = base[1].resize_(2, 2)
        base.mul_(2).add_(w)
        (view * lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)).sum().backward()
        return view.detach(), w.grad

    for a, b in zip(*_each(run)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
