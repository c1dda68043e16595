"""Tensor: dtype rules, factories, conversion, comparisons and the no-grad methods."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import ffnn


# ----- dtype rules (torch's) -------------------------------------------------------------
@pytest.mark.parametrize(
    "data, expected",
    [(1.5, np.float32), ([1.0, 2.0], np.float32), (3, np.int64), ([1, 2], np.int64),
     (True, np.bool_), (np.zeros(2), np.float64), (np.zeros(2, np.float32), np.float32),
     (np.arange(3, dtype=np.int32), np.int32)],
)
def test_tensor_dtype_matches_torch(data, expected):
    ours = ffnn.tensor(data)
    assert ours.dtype == expected
    assert str(torch.tensor(data).dtype).removeprefix("torch.") == np.dtype(expected).name


def test_tensor_copies_ndarray_but_from_numpy_shares():
    a = np.ones(3)
    t, s = ffnn.tensor(a), ffnn.from_numpy(a)
    a[0] = 5
    assert t.data[0] == 1 and s.data[0] == 5


def test_default_dtype_follows_set_default_dtype():
    ffnn.set_default_dtype(ffnn.float64)
    assert ffnn.tensor([1.0]).dtype == np.float64
    assert ffnn.randn(2).dtype == np.float64


def test_set_default_dtype_rejects_int():
    with pytest.raises(TypeError, match="floating dtype. Received: dtype=int64"):
        ffnn.set_default_dtype("int64")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_scalars_keep_the_tensor_dtype(dtype):
    x = ffnn.tensor(np.ones(3, dtype))
    for y in (x * 2.5, 2.5 * x, x + 1, 1 - x, x / 3, 3 / x, x**2, 2.0**x, -x):
        assert y.dtype == dtype


def test_int_tensor_times_python_float_becomes_default_float():
    x = ffnn.tensor([1, 2])
    assert (x * 1.5).dtype == np.float32 == np.dtype(str((torch.tensor([1, 2]) * 1.5).dtype)[6:])
    assert (x + 1).dtype == np.int64


def test_dtype_names_accepted():
    for name in ("float64", "double", np.float64, ffnn.float64, torch.float64):
        assert ffnn.tensor([1.0], dtype=name).dtype == np.float64
    with pytest.raises(TypeError, match="Received: dtype='nope'"):
        ffnn.tensor([1.0], dtype="nope")


# ----- factories and conversion ----------------------------------------------------------
def test_factories_shapes_and_dtypes():
    assert ffnn.zeros(2, 3).shape == (2, 3) and ffnn.zeros((2, 3)).dtype == np.float32
    assert ffnn.ones(4, dtype=ffnn.float64).dtype == np.float64
    assert ffnn.arange(5).dtype == np.int64 and ffnn.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert ffnn.randint(0, 10, (100,)).dtype == np.int64
    assert sorted(ffnn.randperm(7).tolist()) == list(range(7))
    r = ffnn.rand(1000)
    assert 0 <= r.data.min() and r.data.max() < 1


def test_random_factories_follow_seed_and_generator():
    ffnn.manual_seed(3)
    a = ffnn.randn(5)
    ffnn.manual_seed(3)
    np.testing.assert_array_equal(a.data, ffnn.randn(5).data)
    g1, g2 = ffnn.Generator(7), ffnn.Generator(7)
    np.testing.assert_array_equal(ffnn.rand(4, generator=g1).data, ffnn.rand(4, generator=g2).data)


def test_item_numpy_len_tolist():
    t = ffnn.tensor([[1.0, 2.0]])
    assert ffnn.tensor(2.5).item() == 2.5 and len(t) == 1 and t.tolist() == [[1.0, 2.0]]
    assert t.numpy() is t.data.numpy() and isinstance(t.data, ffnn.Tensor)  # shared memory
    with pytest.raises(ValueError, match=r"one element. Received: shape=\(1, 2\)"):
        t.item()


def test_to_and_casts():
    x = ffnn.tensor([1.5, -2.5])
    assert x.double().dtype == np.float64 and x.to(ffnn.float64).dtype == np.float64
    assert x.long().tolist() == [1, -2] and x.to(dtype="float32") is x


# ----- comparisons: values as numpy, never a gradient -------------------------------------
@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"])
def test_comparisons(op):
    a = np.array([[1.0, 2.0, 3.0]])
    b = np.array([[2.0], [2.0]])
    x = ffnn.tensor(a, requires_grad=True)
    for other in (ffnn.tensor(b), 2.0):
        out = getattr(x, op)(other)
        expected = getattr(a, op)(b if isinstance(other, ffnn.Tensor) else 2.0)
        assert out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.data, expected)


def test_argmax_and_max_namedtuple_like_torch():
    a = np.random.default_rng(0).standard_normal((3, 4))
    ours, theirs = ffnn.tensor(a).max(dim=1), torch.tensor(a).max(dim=1)
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
    np.testing.assert_array_equal(ffnn.tensor(a).argmin(0).data, torch.tensor(a).argmin(0))


def test_repr_and_setitem():
    x = ffnn.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    y = ffnn.zeros(3)
    y[1] = 4.0
    assert y.tolist() == [0.0, 4.0, 0.0]
    with pytest.raises(RuntimeError, match="in-place assignment"):
        x[0] = 1.0


def test_integer_float_promotion_like_torch():
    i, f = np.array([1, 2]), np.array([0.5, 4.0], np.float32)
    cases = [lambda a, b: a + b, lambda a, b: b * a, lambda a, b: a / b, lambda a, b: a / 2,
             lambda a, b: 3 / a, lambda a, b: a - 0.5, lambda a, b: b ** a, lambda a, b: a ** b,
             lambda a, b: b.pow(a), lambda a, b: a ** a, lambda a, b: 2 ** a,
             lambda a, b: b.unsqueeze(-1).pow(a), lambda a, b: a.maximum(b),
             lambda a, b: b.minimum(a)]
    for fn in cases:  # (float32 ** int64 was float64, NumPy's promotion, where torch's is float32)
        ours = fn(ffnn.tensor(i), ffnn.tensor(f))
        theirs = fn(torch.tensor(i), torch.tensor(f))
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
        np.testing.assert_allclose(ours.data, theirs.numpy())


@pytest.mark.parametrize("data, message", [
    ([[1, 2], [3]], "expected sequence of length 2 at dim 1 (got sequence of length 1)"),
    ([[[1, 2], [3, 4]], [[1, 2], [3]]], "expected sequence of length 2 at dim 2"),
    ([1, [2]], "expected a number at dim 1 (got sequence of length 1)"),
])
def test_a_ragged_nested_list_is_torchs_value_error(data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ffnn.tensor(data)
    with pytest.raises((ValueError, TypeError)):
        torch.tensor(data)


OVERFLOWING = {
    "int8 from 300": lambda lib: lib.tensor([[1, -2], [300, 4]], dtype=lib.int8),
    "uint8 from 256": lambda lib: lib.tensor([256], dtype=lib.uint8),
    "uint8 from -256": lambda lib: lib.tensor([-256], dtype=lib.uint8),
    "int8 from a float": lambda lib: lib.tensor([127.9, -128.9], dtype=lib.int8),
    "int32 from 2**31": lambda lib: lib.tensor([2**31], dtype=lib.int32),
    "int16 scalar": lambda lib: lib.tensor(70000, dtype=lib.int16),
    "int64 from NaN": lambda lib: lib.tensor([float("nan")], dtype=lib.int64),
    "int64 from inf": lambda lib: lib.tensor([float("inf")], dtype=lib.int64),
    "a NumPy int in a list": lambda lib: lib.tensor([np.int64(300)], dtype=lib.uint8),
    "as_tensor": lambda lib: lib.as_tensor([300], dtype=lib.int8),
    "new_tensor": lambda lib: lib.zeros(1, dtype=lib.int8).new_tensor([300]),
    "ByteTensor": lambda lib: lib.ByteTensor([300]),
    "beyond int64": lambda lib: lib.tensor([[1, 2**63]]),
    "LongTensor beyond int64": lambda lib: lib.LongTensor([2**63]),
    "full": lambda lib: lib.full((2,), 300, dtype=lib.int8),
    "fill_": lambda lib: lib.zeros(2, dtype=lib.int8).fill_(-129),
}
FITTING = {
    "uint8 wraps a negative": lambda lib: lib.tensor([-1, -255, 255], dtype=lib.uint8),
    "int8 limits": lambda lib: lib.tensor([-128, 127, 1.7, -1.7], dtype=lib.int8),
    "a NumPy array wraps": lambda lib: lib.tensor(np.array([300]), dtype=lib.int8),
    "int64 limits": lambda lib: lib.tensor([2**63 - 1, -(2**63)]),
    "floats to inf": lambda lib: lib.tensor([1e40, 7e4], dtype=lib.float16),
    "bool": lambda lib: lib.tensor([300, 0], dtype=lib.bool),
    "float from a big int": lambda lib: lib.tensor([2**63], dtype=lib.float64),
    "arithmetic wraps": lambda lib: lib.zeros(2, dtype=lib.int8) + 300,
}


@pytest.mark.parametrize("make", OVERFLOWING.values(), ids=list(OVERFLOWING))
def test_python_numbers_an_integer_dtype_cannot_hold_raise_as_torchs(make):
    """torch checks the Python numbers it stores in an integer dtype (where NumPy's data and
    arithmetic wrap): ``torch.tensor([300], dtype=torch.int8)`` is a RuntimeError, not 44."""
    with pytest.raises((RuntimeError, ValueError)) as theirs:
        make(torch)
    with pytest.raises(theirs.type, match=re.escape(str(theirs.value))):
        make(ffnn)


@pytest.mark.parametrize("make", FITTING.values(), ids=list(FITTING))
def test_numbers_that_fit_or_wrap_as_torchs_do_not_raise(make):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy overflow warning either
        ours = make(ffnn)
    theirs = make(torch)
    assert ours.numpy().dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("call", [lambda x: x.argmax(dim=2), lambda x: x.argmin(dim=-3),
                                  lambda x: ffnn.softmax(x, dim=2),
                                  lambda x: x.log_softmax(dim=-3)])
def test_argmax_and_softmax_check_dim_as_torch(call):
    """(numpy's AxisError before; -3 on a 2-D tensor is out of range, not a wrap-around)"""
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-2, 1\]"):
        call(ffnn.ones(2, 3))


def test_load_of_a_folder_says_it_is_a_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="cannot load checkpoint .*: it is a folder"):
        ffnn.load(tmp_path)
