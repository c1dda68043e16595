"""The sums of products and statistics torch programs call (addmv, addr, baddbmm, addbmm, cov,
corrcoef, renorm, diagflat, sum_to_size, hardshrink), the comparison and complex-query aliases,
asarray, frombuffer and the constants: values and gradients against torch (float64) and
finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import ffnn
from tests.helpers import assert_close, check_op

rng = np.random.default_rng(7)


@pytest.mark.parametrize(("beta", "alpha"), [(1, 1), (0.5, -2.0), (0, 3.0)])
def test_sums_of_products_follow_torch(beta, alpha):
    keys = {"beta": beta, "alpha": alpha}
    check_op(lambda lib, i, m, v: lib.addmv(i, m, v, **keys), rng.standard_normal(3),
             rng.standard_normal((3, 4)), rng.standard_normal(4))
    check_op(lambda lib, i, a, b: i.addr(a, b, **keys), rng.standard_normal((3, 1)),
             rng.standard_normal(3), rng.standard_normal(5))
    check_op(lambda lib, i, a, b: lib.baddbmm(i, a, b, **keys), rng.standard_normal((1, 2, 5)),
             rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 3, 5)))
    check_op(lambda lib, i, a, b: i.addbmm(a, b, **keys), rng.standard_normal((2, 5)),
             rng.standard_normal((4, 2, 3)), rng.standard_normal((4, 3, 5)))


def test_beta_zero_does_not_read_the_input():
    nan = np.full((2, 3), np.nan)
    a, b = rng.standard_normal((2, 4)), rng.standard_normal((4, 3))
    for lib in (ffnn, torch):
        tensor = lib.tensor if lib is ffnn else torch.tensor
        out = lib.addmm(tensor(nan), tensor(a), tensor(b), beta=0)
        if lib is ffnn:
            ours = out.numpy()
        else:
            theirs = out.numpy()
    assert np.isfinite(theirs).all()
    assert_close(ours, theirs)
    x = ffnn.tensor(np.full(2, np.nan))
    assert np.isfinite(x.addmv(ffnn.tensor(a[:, :3]), ffnn.tensor(b[:3, 0]), beta=0).numpy()).all()


def test_sums_of_products_check_their_operands():
    with pytest.raises(RuntimeError, match="vec"):
        ffnn.zeros(3).addmv(ffnn.zeros(3, 4), ffnn.zeros(4, 1))
    with pytest.raises(RuntimeError, match="batch1"):
        ffnn.zeros(2, 5).addbmm(ffnn.zeros(2, 3), ffnn.zeros(4, 3, 5))


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_cov_and_corrcoef_follow_torch(correction):
    check_op(lambda lib, x: lib.cov(x, correction=correction), rng.standard_normal((3, 7)),
             dtypes=(np.float64,))
    check_op(lambda lib, x: x.cov(correction=correction), rng.standard_normal(6),
             dtypes=(np.float64,))
    check_op(lambda lib, x: lib.corrcoef(x), rng.standard_normal((4, 9)), dtypes=(np.float64,))


def test_cov_with_frequency_and_importance_weights_follows_torch():
    x = rng.standard_normal((3, 6))
    fw = np.array([1, 3, 0, 2, 1, 4])
    aw = rng.uniform(0.1, 2.0, 6)
    for keys in ({"fweights": fw}, {"aweights": aw}, {"fweights": fw, "aweights": aw}):
        for correction in (0, 1):
            def cov(lib, x, keys=keys, correction=correction):
                weights = {k: lib.tensor(v) for k, v in keys.items()}
                return lib.cov(x, correction=correction, **weights)

            check_op(cov, x, dtypes=(np.float64,))


def test_cov_of_integers_is_float_and_bad_weights_raise_as_torch():
    data = [[1, 2, 4, 7], [0, 3, 1, 1]]
    ours, theirs = ffnn.cov(ffnn.tensor(data)), torch.cov(torch.tensor(data))
    assert ours.dtype == np.float32
    assert_close(ours.numpy(), theirs.numpy(), np.float32)
    x = [[1.0, 2.0, 3.0]]
    for weights in ({"fweights": [1.0, 2.0, 3.0]}, {"fweights": [1, -1, 1]},
                    {"aweights": [1.0, 2.0]}, {"aweights": [[1.0, 1.0, 1.0]]}):
        for lib in (ffnn, torch):
            with pytest.raises(RuntimeError):
                lib.cov(lib.tensor(x), **{k: lib.tensor(v) for k, v in weights.items()})
    with pytest.raises(RuntimeError, match="two or fewer"):
        ffnn.zeros(2, 2, 2).cov()


def test_cov_without_degrees_of_freedom_warns_and_gives_inf_as_torch():
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        ours = ffnn.tensor([[1.0, 2.0]]).cov(correction=2).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.tensor([[1.0, 2.0]]).cov(correction=2).numpy()
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize(("p", "dim", "maxnorm"), [(2, 0, 1.0), (1, 1, 0.5), (3, -1, 2.0),
                                                   (math.inf, 0, 1.0)])
def test_renorm_follows_torch(p, dim, maxnorm):
    x = rng.standard_normal((4, 3, 2))
    x[1] *= 0.05  # a slice under maxnorm, kept as it is
    check_op(lambda lib, x: x.renorm(p, dim, maxnorm), x, dtypes=(np.float64,))
    check_op(lambda lib, x: lib.renorm(x, p, dim, maxnorm), x[:, :, 0], dtypes=(np.float64,),
             finite_differences=False)


def test_renorm_checks_its_arguments_as_torch():
    for args in ((0, 0, 1.0), (2, 0, -1.0)):
        for lib in (ffnn, torch):
            with pytest.raises(RuntimeError):
                lib.ones(3, 3).renorm(*args)
    for lib in (ffnn, torch):
        with pytest.raises(IndexError, match="Dimension out of range"):
            lib.ones(3, 3).renorm(2, 5, 1.0)


@pytest.mark.parametrize("offset", [0, 2, -1])
def test_diagflat_follows_torch(offset):
    check_op(lambda lib, x: lib.diagflat(x, offset), rng.standard_normal((2, 2)))


@pytest.mark.parametrize("size", [(3, 1), (1, 4), (4,), (1, 1), (3, 4)])
def test_sum_to_size_follows_torch(size):
    check_op(lambda lib, x: x.sum_to_size(*size), rng.standard_normal((2, 3, 4)) if len(size) == 1
             else rng.standard_normal((3, 4)))
    check_op(lambda lib, x: x.sum_to_size(size), rng.standard_normal((3, 4)) if len(size) > 1
             else rng.standard_normal((5, 4)))


def test_sum_to_size_refuses_a_size_that_does_not_broadcast():
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError, match="expandable"):
            lib.ones(3, 4).sum_to_size(2, 4)


def test_hardshrink_method_and_function_follow_torch():
    x = rng.standard_normal(11)
    check_op(lambda lib, x: x.hardshrink(0.3), x)
    check_op(lambda lib, x: lib.hardshrink(x), x)


def test_comparison_and_rounding_aliases_follow_torch():
    a, b = rng.integers(-3, 3, 12).astype(float), rng.integers(-3, 3, 12).astype(float)
    for name in ("greater", "greater_equal", "less", "less_equal", "not_equal",
                 "floor_divide"):
        ours = getattr(ffnn.tensor(a), name)(ffnn.tensor(b + 0.5)).numpy()
        theirs = getattr(torch.tensor(a), name)(torch.tensor(b + 0.5)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
        np.testing.assert_array_equal(getattr(ffnn, name)(ffnn.tensor(a), 0.5).numpy(),
                                      getattr(torch, name)(torch.tensor(a), 0.5).numpy())
    x = rng.standard_normal(9) * 3
    np.testing.assert_array_equal(ffnn.fix(ffnn.tensor(x)).numpy(), torch.fix(torch.tensor(x)))


def test_real_tensors_answer_the_complex_queries_as_torch():
    t = ffnn.tensor([1.0, -2.0], requires_grad=True)
    for name in ("conj", "resolve_conj", "resolve_neg", "conj_physical"):
        assert getattr(t, name)() is t
    assert t.real is t and ffnn.real(t) is t
    for lib in (ffnn, torch):
        with pytest.raises(RuntimeError, match="imag is not implemented"):
            lib.tensor([1.0]).imag  # noqa: B018 - the access is the test
    assert not t.is_conj() and not t.is_neg() and t.is_cpu
    for values, signed in (([1.0], True), ([1], True), (np.array([1], np.uint8), False),
                           ([True], False)):
        assert ffnn.tensor(values).is_signed() == torch.tensor(values).is_signed() == signed
    assert ffnn.ones(2, 3).is_same_size(ffnn.zeros(2, 3))
    assert not ffnn.is_same_size(ffnn.ones(2, 3), ffnn.zeros(3, 2))


def test_asarray_shares_memory_as_torch():
    array = np.arange(6.0).reshape(2, 3)
    shared = ffnn.asarray(array)
    array[0, 0] = 42.0
    assert shared[0, 0].item() == 42.0
    copied = ffnn.asarray(array, copy=True)
    array[0, 1] = -1.0
    assert copied[0, 1].item() == 1.0
    converted = ffnn.asarray(array, dtype=ffnn.float32)
    assert converted.dtype == np.float32 and not np.shares_memory(converted.numpy(), array)
    t = ffnn.ones(3)
    assert ffnn.asarray(t) is t
    assert ffnn.asarray(t, dtype=ffnn.float64).dtype == np.float64
    assert ffnn.asarray([1, 2]).dtype == torch.asarray([1, 2]).numpy().dtype
    assert ffnn.asarray([1.5], requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="copy=False"):
        ffnn.asarray(array, dtype=ffnn.float32, copy=False)


def test_frombuffer_reads_the_bytes_in_place():
    buffer = bytearray(np.arange(5, dtype=np.float32).tobytes())
    t = ffnn.frombuffer(buffer, dtype=ffnn.float32, count=3, offset=4)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(t.numpy(), torch.frombuffer(
        buffer, dtype=torch.float32, count=3, offset=4).numpy())
    t[0] = 9.0
    assert np.frombuffer(buffer, np.float32)[1] == 9.0
    with pytest.warns(UserWarning, match="not writable"):
        ffnn.frombuffer(bytes(8), dtype=ffnn.float64)


def test_constants_are_torchs():
    for name in ("pi", "e", "inf", "nan", "newaxis"):
        ours, theirs = getattr(ffnn, name), getattr(torch, name)
        assert ours == theirs or (ours != ours and theirs != theirs), name
    assert ffnn.ones(2)[:, ffnn.newaxis].shape == (2, 1)


@pytest.mark.parametrize("factor", [{"alpha": 0.5}, {"beta": 0.5}, {"alpha": 2.7, "beta": 3}])
def test_float_factors_with_integer_tensors_as_torch(factor):
    def run(lib):
        a, v = lib.ones(2, 2, dtype=lib.int64) * 3, lib.arange(2)
        out = [a.addmm(a, a, **factor), v.addmv(a, v, **factor),
               a[None].baddbmm(a[None], a[None], **factor), a.addbmm(a[None], a[None], **factor)]
        with pytest.raises(RuntimeError, match="must not be a floating point number"):
            a.addr(v, v, **{k: float(x) for k, x in factor.items()})
        return [np.asarray(t).tolist() for t in out]

    assert run(ffnn) == run(torch)
