"""Factories with torch's keywords (``dtype=``, ``device=``, ``requires_grad=``), the ``*_like``
forms, the legacy typed constructors and the dtype conversions, against torch."""

import numpy as np
import pytest
import torch

import ffnn

FACTORIES = [
    ("zeros", (2, 3), {}),
    ("ones", ((2, 3),), {}),
    ("empty", ([4],), {}),
    ("full", ((2, 2), 3), {}),
    ("full", ((2,), 1.5), {}),
    ("full", ((2,), True), {}),
    ("eye", (2, 3), {}),
    ("arange", (5,), {}),
    ("arange", (1, 7, 2), {}),
    ("arange", (0, 1, 0.25), {}),
    ("linspace", (-1, 1, 5), {}),
    ("randn", (3, 2), {}),
    ("rand", ((3, 2),), {}),
    ("randint", (0, 10, (4,)), {}),
    ("randint", (5, (2, 2)), {}),
    ("randperm", (6,), {}),
    ("normal", (0.0, 1.0, (3, 2)), {}),
]


@pytest.mark.parametrize("name, args, kwargs", FACTORIES)
def test_factory_shape_and_dtype_match_torch(name, args, kwargs):
    ours, theirs = getattr(ffnn, name)(*args, **kwargs), getattr(torch, name)(*args, **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    if name not in ("randn", "rand", "randint", "randperm", "normal", "empty"):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name, args, kwargs", FACTORIES)
def test_factories_take_dtype_device_and_requires_grad(name, args, kwargs):
    dtype = ffnn.int32 if name in ("randint", "randperm") else ffnn.float64
    t = getattr(ffnn, name)(*args, dtype=dtype, device="cpu", **kwargs)
    assert t.dtype == dtype and str(t.device) == "cpu"
    t = getattr(ffnn, name)(*args, dtype=ffnn.float64, device=ffnn.device("cpu"),
                            requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.dtype == ffnn.float64
    with pytest.raises(AssertionError, match="CPU only"):
        getattr(ffnn, name)(*args, device="cuda")


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "rand_like",
                                  "randn_like"])
def test_like_factories_keep_shape_and_dtype(name):
    base = ffnn.zeros(2, 3, dtype=ffnn.float64)
    t = getattr(ffnn, name)(base)
    assert t.shape == (2, 3) and t.dtype == ffnn.float64
    t = getattr(ffnn, name)(base, dtype=ffnn.float32, device="cpu", requires_grad=True)
    assert t.dtype == ffnn.float32 and t.requires_grad


def test_full_like_and_randint_like():
    assert ffnn.full_like(ffnn.zeros(3), 7.0).tolist() == [7.0, 7.0, 7.0]
    labels = ffnn.randint_like(ffnn.zeros(50, dtype=ffnn.int64), 3)
    assert labels.dtype == ffnn.int64 and set(labels.tolist()) <= {0, 1, 2}
    assert ffnn.zeros_like(ffnn.tensor([1, 2])).dtype == ffnn.int64


def test_normal_with_tensor_means_and_stds():
    ffnn.manual_seed(3)
    means = ffnn.arange(0.0, 5.0)
    draws = ffnn.stack([ffnn.normal(means, 0.01) for _ in range(20)])
    assert draws.shape == (20, 5) and draws.dtype == ffnn.float32
    np.testing.assert_allclose(draws.mean(0).numpy(), means.numpy(), atol=0.02)
    spread = ffnn.normal(ffnn.zeros(4000), ffnn.full((4000,), 2.0))
    assert 1.9 < float(spread.std()) < 2.1


def test_random_factories_follow_the_seed():
    ffnn.manual_seed(11)
    first = [ffnn.randn(3), ffnn.rand(2), ffnn.randint(0, 9, (3,)), ffnn.normal(0, 1, (2,))]
    ffnn.manual_seed(11)
    again = [ffnn.randn(3), ffnn.rand(2), ffnn.randint(0, 9, (3,)), ffnn.normal(0, 1, (2,))]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_tensor_and_as_tensor_keywords():
    t = ffnn.tensor([1, 2], dtype=ffnn.float32, device="cpu", requires_grad=True)
    assert t.dtype == ffnn.float32 and t.requires_grad
    array = np.arange(3.0)
    assert ffnn.from_numpy(array).numpy() is array
    shared = ffnn.as_tensor(array, device="cpu")
    array[0] = 9.0
    assert shared.tolist()[0] == 9.0
    with pytest.raises(TypeError, match="from_numpy expects a numpy.ndarray"):
        ffnn.from_numpy([1, 2])


def test_legacy_typed_constructors_as_torch():
    for name in ("FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor"):
        ours, theirs = getattr(ffnn, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.type() == theirs.type() == f"torch.{name}"
        assert isinstance(ours, getattr(ffnn, name))
        assert getattr(ffnn, name)(2, 3).shape == (2, 3)
    assert not isinstance(ffnn.zeros(2), ffnn.LongTensor)
    x = ffnn.tensor([1.7, -2.2])
    assert x.type(ffnn.LongTensor).tolist() == torch.tensor([1.7, -2.2]).type(
        torch.LongTensor).tolist()
    assert x.type("torch.DoubleTensor").dtype == ffnn.float64
    with pytest.raises(TypeError, match="unknown tensor type"):
        x.type("torch.NoSuchTensor")


def test_dtype_conversion_methods_as_torch():
    values = [1.7, -2.2, 0.0]
    ours, theirs = ffnn.tensor(values), torch.tensor(values)
    for name in ("float", "double", "long", "int", "bool"):
        a, b = getattr(ours, name)(), getattr(theirs, name)()
        assert str(a.dtype) == str(b.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ours.to(ffnn.float64).dtype == ffnn.float64
    assert ours.to(ffnn.zeros(1, dtype=ffnn.float64)).dtype == ffnn.float64
    assert ours.to("cpu", ffnn.int64).dtype == ffnn.int64
    assert ours.to(device="cpu", dtype=ffnn.float64).dtype == ffnn.float64
    assert ffnn.bool is ffnn.bool_ and ffnn.int == ffnn.int32 and ffnn.float == ffnn.float32


def test_view_size_dim_numel_tolist_item():
    t, r = ffnn.arange(6.0), torch.arange(6.0)
    assert t.view(2, 3).tolist() == r.view(2, 3).tolist()
    assert t.view(-1, 2).size() == tuple(r.view(-1, 2).size())
    assert t.view(3, 2).size(1) == 2 and t.view(3, 2).dim() == 2 and t.numel() == 6
    assert t.sum().item() == r.sum().item() == 15.0
    assert isinstance(ffnn.tensor([3]).item(), int)


def test_legacy_tensor_constructor_forms_as_torch():
    for args in [([1, 2],), ([[1, 2], [3, 4]],), ([1.5],), (2, 3), (4,), ()]:
        ours, theirs = ffnn.Tensor(*args), torch.Tensor(*args)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == ffnn.float32
        if args and isinstance(args[0], list):
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    weight = ffnn.nn.Parameter(ffnn.Tensor(3, 2))  # then reset_parameters() fills it
    ffnn.nn.init.kaiming_uniform_(weight)
    assert weight.shape == (3, 2) and weight.requires_grad and np.any(weight.numpy() != 0)
    for array in (np.arange(3), np.ones(2), np.array([True])):  # the default float, as torch
        assert ffnn.Tensor(array).dtype == ffnn.float32 and \
            torch.Tensor(array).dtype == torch.float32
    with pytest.raises(TypeError, match="integer sizes"):
        ffnn.Tensor(2, "a")


@pytest.mark.parametrize("make", [lambda m: m.randn(-1), lambda m: m.zeros(2, -3),
                                  lambda m: m.full((2, -1), 1.0), lambda m: m.arange(0, 5, 0)])
def test_negative_sizes_and_a_zero_step_are_runtime_errors_as_torch(make):
    with pytest.raises(RuntimeError):
        make(torch)
    with pytest.raises(RuntimeError, match=r"negative dimension -\d|step must be nonzero"):
        make(ffnn)


def test_manual_seed_of_a_non_integer_names_the_seed():
    with pytest.raises(TypeError, match=r"manual_seed expects an integer. Received: seed='a'"):
        ffnn.manual_seed("a")


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(np.float64(2.5)), lambda lib: lib.tensor(np.float32(2.5)),
    lambda lib: lib.tensor(np.int32(3)), lambda lib: lib.tensor([np.float64(1.0), 2.0]),
    lambda lib: lib.tensor([[np.float64(1.0)], [np.float64(2.0)]]),
    lambda lib: lib.tensor([np.float32(1.0), 2.0]), lambda lib: lib.tensor([1.0, 2.0]),
    lambda lib: lib.as_tensor(np.float64(1.5)), lambda lib: lib.tensor(np.bool_(True)),
])
def test_numpy_scalars_keep_their_dtype_as_in_torch(make):
    assert str(make(ffnn).dtype) == str(make(torch).dtype).removeprefix("torch.")
