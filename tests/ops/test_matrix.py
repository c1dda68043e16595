"""matmul (1-D, 2-D, batched, broadcasting) and the fused linear op."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ffnn
from tests.helpers import check_op, randn, seeds, without_mkl

dims = st.integers(1, 4)


@given(seed=seeds, n=dims, k=dims, m=dims, b=dims)
def test_matmul_ranks(seed, n, k, m, b):
    cases = [((k,), (k,)), ((k,), (k, m)), ((n, k), (k,)), ((n, k), (k, m)),
             ((b, n, k), (k, m)), ((k,), (b, k, m)), ((b, n, k), (k,)), ((b, 1, n, k), (2, k, m)),
             ((b, n, k), (b, k, m))]
    for i, (sa, sb) in enumerate(cases):
        check_op(lambda lib, x, y: x @ y, randn(seed + i, *sa), randn(seed + 100 + i, *sb))


def test_matmul_function_and_method():
    a, b = randn(0, 2, 3), randn(1, 3, 2)
    check_op(lambda lib, x, y: lib.matmul(x, y) + x.matmul(y) + x.mm(y), a, b)


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        ffnn.zeros(2, 3) @ ffnn.zeros(4, 5)


@given(seed=seeds, bias=st.booleans(), batch=st.sampled_from([(), (3,), (2, 3)]))
def test_linear_function(seed, bias, batch):
    x, w, b = randn(seed, *batch, 4), randn(seed + 1, 5, 4), randn(seed + 2, 5)
    if bias:
        check_op(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), x, w, b)
    else:
        check_op(lambda lib, x, w: lib.nn.functional.linear(x, w), x, w)


@pytest.mark.parametrize("rows, fan_in, fan_out", [(1, 4, 3), (6, 1, 3), (6, 4, 1), (1, 1, 1)])
def test_linear_with_a_dimension_of_one_follows_torch(rows, fan_in, fan_out):
    """One row, one input or one output makes one of the three products an outer product
    (``ffnn.ops.matrix.product`` computes it as a broadcast product)."""
    x, w, b = randn(rows, rows, fan_in), randn(fan_in, fan_out, fan_in), randn(7, fan_out)
    check_op(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), x, w, b)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("shape", [(300, 70), (20000, 8), (3, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_outer_product_is_each_pair_s_product_rounded_once(dtype, shape, compiled,
                                                              monkeypatch):
    """Compiled (``accel.outer_product``, from ``MIN_SIZE`` elements) or NumPy's broadcast."""
    from ffnn import accel
    from ffnn.ops.matrix import product

    if compiled and not accel.available:
        pytest.skip("numba is not installed")
    monkeypatch.setattr(accel, "enabled", compiled)
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((shape[0], 1)), rng.standard_normal((1, shape[1]))
    got = product(a.astype(dtype), b.astype(dtype))
    exact = a.astype(dtype).astype(np.float64) * b.astype(dtype).astype(np.float64)
    assert got.dtype == dtype and got.shape == shape and got.flags.c_contiguous
    np.testing.assert_array_equal(got, exact.astype(dtype))
    column = rng.standard_normal((shape[0], 3)).astype(dtype)[:, 1:2]  # not contiguous
    np.testing.assert_array_equal(product(column, b.astype(dtype)),
                                  (column.astype(np.float64) * b.astype(dtype)).astype(dtype))
    g = rng.standard_normal((5, 1)).astype(dtype)  # a transposed view, as dL/dW = gᵀx
    np.testing.assert_array_equal(product(g.T.T, b.astype(dtype)), g @ b.astype(dtype))


def test_linear_skips_gradients_nobody_asked_for():
    x = ffnn.tensor(np.ones((2, 3)))
    w = ffnn.tensor(np.ones((4, 3)), requires_grad=True)
    ffnn.nn.functional.linear(x, w).sum().backward()
    assert x.grad is None and w.grad.tolist() == [[2.0] * 3] * 4


def test_linear_function_shape_error():
    with pytest.raises(ValueError, match=r"input has 3 features \(shape \(2, 3\)\).*expects 4"):
        ffnn.nn.functional.linear(ffnn.zeros(2, 3), ffnn.zeros(5, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [1, 7, 200])
def test_column_sums_are_the_sum_over_rows(dtype, rows):
    """The bias gradient as 1ᵀg (one BLAS product) against an exact float64 sum; integer
    and empty arrays take NumPy's sum."""
    from ffnn.ops.matrix import column_sums

    g = np.random.default_rng(rows).standard_normal((rows, 13)).astype(dtype)
    got = column_sums(g)
    assert got.dtype == dtype and got.shape == (13,)
    exact = np.array([math.fsum(col) for col in g.T.astype(np.float64)])
    np.testing.assert_allclose(got, exact, rtol=1e-5 if dtype == np.float32 else 1e-13,
                               atol=1e-5 if dtype == np.float32 else 1e-13)
    ints = np.arange(6).reshape(3, 2)
    np.testing.assert_array_equal(column_sums(ints), [6, 9])
    assert column_sums(np.zeros((0, 4), dtype)).tolist() == [0.0] * 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, out_f, in_f, path", [
    (4096, 16, 30, "rows"), (8192, 50, 3, "rows"), (20000, 1, 8, "one thread"),
    (1024, 32, 2, "one thread"), (4096, 40, 8, "rows"), (300, 40, 8, "plain"),
    (100, 8, 8, "plain"), (512, 300, 200, "plain"),
    (4096, 8, 8, "rows"),  # narrow, of NARROW_PARTS_MIN elements
    (8192, 16, 1, "rows"),  # narrow, one input: a part is a gemv
    (4096, 1, 256, "rows"),  # one output: a part is a gemv
    (300, 1, 1000, "plain")])  # one output, too few rows
def test_weight_gradient_paths(rows, out_f, in_f, path, dtype, monkeypatch):
    """gᵀ x is summed by parts of rows (``sums_by_rows``: many rows and several outputs, a
    narrow sum, a large one into one row), on one BLAS thread (narrow, many rows, few
    elements) or plainly, each path spied on; every one is gᵀ x to the dtype's rounding of
    a sum of ``rows`` products, and the thread count is restored. OpenBLAS's paths: no MKL
    (whose own parts of outputs take the larger products of several outputs)."""
    from ffnn import accel
    from ffnn.kernels import blas_split
    from ffnn.ops import _blas, matrix

    if accel.enabled:
        without_mkl(monkeypatch)
    assert matrix.sums_by_rows(rows, out_f, in_f, False) == (path == "rows")
    found = blas_split.splitter() if accel.enabled else None
    if path == "rows" and (found is None or found.threads() < 2):  # where it cannot split
        path = "one thread" if matrix.narrow_reduction(rows, out_f, in_f) else "plain"
    calls = {"rows": [], "one thread": []}
    spied = accel.product_over_rows

    def split(*arguments):
        result = spied(*arguments)
        calls["rows"].extend([1] if result is not None else [])
        return result

    monkeypatch.setattr(accel, "product_over_rows", split)
    monkeypatch.setattr(matrix, "on_one_thread",
                        lambda *a: calls["one thread"].append(1) or _blas.on_one_thread(*a))
    rng = np.random.default_rng(3)
    g = rng.standard_normal((rows, out_f)).astype(dtype)
    x = rng.standard_normal((rows, in_f)).astype(dtype)
    threads = _blas._openblas_threads()
    before = threads[1]() if threads else None
    got = matrix.weight_product(g, x)
    for name, seen in calls.items():
        assert len(seen) == int(name == path), name
    assert got.dtype == dtype and got.shape == (out_f, in_f) and got.flags.c_contiguous
    exact = np.einsum("no,ni->oi", g.astype(np.float64), x.astype(np.float64))
    bound = 4 * rows * np.finfo(dtype).eps * np.einsum("no,ni->oi", np.abs(g), np.abs(x))
    assert np.all(np.abs(got - exact) <= bound)
    if threads:
        assert threads[1]() == before


@pytest.mark.parametrize("mkl", [True, False], ids=["mkl", "openblas"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, width, path", [
    (1024, 256, "rows"), (65536, 8, "rows"), (300, 1000, "plain"), (4096, 16, "one thread"),
    (2000, 100, "plain")])
def test_column_sums_paths(rows, width, path, dtype, mkl, monkeypatch):
    """1ᵀ g is summed by parts of rows from ``ONE_ROW_PARTS_MIN`` elements over
    ``ONE_ROW_PARTS_ROWS`` rows (a part by MKL's gemm, or OpenBLAS's gemv), else by one
    gemv (on one thread for narrow rows), each path spied on: the exact column sums to the
    dtype's rounding, the thread count restored."""
    from ffnn import accel
    from ffnn.kernels import blas_split
    from ffnn.ops import _blas, matrix

    if accel.enabled and not mkl:
        without_mkl(monkeypatch)
    assert matrix.sums_by_rows(rows, 1, width, False) == (path == "rows")
    found = blas_split.splitter() if accel.enabled else None
    if path == "rows" and (found is None or found.threads() < 2):  # where it cannot split
        path = "one thread" if matrix.narrow_reduction(rows, 1, width) else "plain"
    calls = {"rows": [], "one thread": []}
    spied = accel.product_over_rows
    monkeypatch.setattr(accel, "product_over_rows", lambda *a: calls["rows"].extend(
        [1] if (result := spied(*a)) is not None else []) or result)
    monkeypatch.setattr(matrix, "on_one_thread",
                        lambda *a: calls["one thread"].append(1) or _blas.on_one_thread(*a))
    g = np.random.default_rng(rows).standard_normal((rows, width)).astype(dtype)
    threads = _blas._openblas_threads()
    before = threads[1]() if threads else None
    got = matrix.column_sums(g)
    for name, seen in calls.items():
        assert len(seen) == int(name == path), name
    assert got.dtype == dtype and got.shape == (width,)
    exact = g.astype(np.float64).sum(axis=0)
    assert np.all(np.abs(got - exact) <= 2 * rows * np.finfo(dtype).eps * np.abs(g).sum(0))
    if threads:
        assert threads[1]() == before


@pytest.mark.parametrize("m, k, n, dtype, one_thread", [
    (64, 64, 128, np.float32, True), (64, 64, 128, np.float64, True),
    (32, 128, 256, np.float32, True), (64, 100, 100, np.float32, True),
    (64, 128, 128, np.float64, False),  # 2²⁰ float64 multiply-adds: both threads pay
    (128, 64, 64, np.float32, False),  # rows enough for both threads
    (16, 256, 256, np.float32, False),  # a result 16 times wider than high
    (32, 64, 128, np.float32, False),  # below where OpenBLAS splits a product
    (64, 512, 512, np.float32, False)])  # work enough for both threads
def test_a_product_of_few_rows_runs_on_one_blas_thread(m, k, n, dtype, one_thread,
                                                       monkeypatch):
    """``product`` runs a few rows' product of moderate work on one BLAS thread (spied on;
    with the compiled kernels on, OpenBLAS's route: no MKL):
    a @ b to the dtype's rounding of a sum of k products either way, the thread count
    restored."""
    from ffnn import accel
    from ffnn.ops import _blas, matrix

    assert matrix.one_thread_product(m, k, n, np.dtype(dtype).itemsize) == one_thread
    one_thread = one_thread and accel.enabled  # FFNN_ACCEL=0: NumPy alone
    if accel.enabled:
        without_mkl(monkeypatch)
    calls = []
    monkeypatch.setattr(matrix, "on_one_thread",
                        lambda *a: calls.append(1) or _blas.on_one_thread(*a))
    rng = np.random.default_rng(m + k + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype).T  # as a Linear layer's x Wᵀ
    threads = _blas._openblas_threads()
    before = threads[1]() if threads else None
    got = matrix.product(a, b)
    assert len(calls) == int(one_thread)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    bound = 2 * k * np.finfo(dtype).eps * (np.abs(a) @ np.abs(b))
    assert got.shape == (m, n) and np.all(np.abs(got - exact) <= bound)
    if threads:
        assert threads[1]() == before


def test_rows_split_product_adds_its_parts_in_order(monkeypatch):
    """``product_over_rows`` (where it can split here) is the sum of each range's product,
    the ranges OpenBLAS's split gives: for 2 parts, exactly g₀ᵀx₀ + g₁ᵀx₁ (each part one
    OpenBLAS gemm on one thread, where MKL is not used: ``test_mkl_products`` has MKL's)."""
    from ffnn.kernels import blas_split, row_parts
    from ffnn.ops import _blas

    without_mkl(monkeypatch)
    rng = np.random.default_rng(5)
    g, x = rng.standard_normal((6001, 20)), rng.standard_normal((6001, 24))
    got = row_parts.product_over_rows(g, x)
    found = blas_split.splitter()
    if found is None or found.threads() != 2:
        assert got is None or got.shape == (20, 24)
        pytest.skip("two BLAS threads are needed to know the parts")
    half = -(-6001 // 2)  # OpenBLAS's first range: ceil(n / threads)
    first, second = (_blas.on_one_thread(np.matmul, g[s].T, x[s])
                     for s in (slice(0, half), slice(half, None)))
    np.testing.assert_array_equal(got, first + second)


def test_one_blas_thread_is_restored_after_an_error():
    from ffnn.ops import _blas

    threads = _blas._openblas_threads()
    if threads is None:
        pytest.skip("NumPy here does not link scipy-openblas64")
    before = threads[1]()
    seen = []

    def fails():
        seen.append(threads[1]())
        raise RuntimeError("inside")

    with pytest.raises(RuntimeError, match="inside"):
        _blas.on_one_thread(fails)
    assert seen == [1] and threads[1]() == before


def test_narrow_products_without_numba_run_plainly(monkeypatch):
    """Without numba (``ffnn.kernels`` cannot be imported) the one-thread rule has no
    thread functions and the products run as they are: same values, no error."""
    import sys

    from ffnn.ops import _blas, matrix

    monkeypatch.setitem(sys.modules, "ffnn.kernels.native", None)  # its import fails
    _blas._openblas_threads.cache_clear()
    try:
        assert _blas._openblas_threads() is None
        rng = np.random.default_rng(6)
        g, x = rng.standard_normal((2048, 8)), rng.standard_normal((2048, 4))
        assert matrix.narrow_reduction(2048, 8, 4)
        np.testing.assert_allclose(matrix.weight_product(g, x), g.T @ x, rtol=1e-12)
        np.testing.assert_allclose(matrix.column_sums(g), g.sum(axis=0), rtol=1e-12)
    finally:
        _blas._openblas_threads.cache_clear()


@pytest.mark.parametrize("mkl", [True, False], ids=["mkl", "openblas"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, fan_in, fan_out", [(300, 700, 400), (8192, 64, 16), (2, 3, 40000)])
def test_a_large_linear_forward_writes_its_bias_first_and_follows_torch(
        rows, fan_in, fan_out, dtype, mkl, monkeypatch):
    """From ``SPLIT_MIN`` output elements the eager Linear fills its output with the bias's
    rows and BLAS adds the product (β = 1, ``accel.bias_first_forward``), as torch's
    ``addmm`` does; its forward and gradients follow torch, and the path is taken where BLAS
    computes the product as it is (two rows, the last shape, may go to the loops of a few
    rows instead, as the BLAS at hand decides)."""
    import torch

    from ffnn import accel

    if not accel.enabled:
        pytest.skip("the compiled kernels are off")
    if not mkl:
        without_mkl(monkeypatch)
    taken, original = [], accel.bias_first_forward

    def recorded(*arrays):
        out = original(*arrays)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(accel, "bias_first_forward", recorded)
    rng = np.random.default_rng(rows)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in
               ((rows, fan_in), (fan_out, fan_in), (fan_out,)))
    ours = [ffnn.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b)]
    theirs = [torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, w, b)]
    y = ffnn.nn.functional.linear(*ours)
    expected = torch.nn.functional.linear(*theirs)
    assert taken == [True] if rows > 2 else len(taken) == 1  # a few rows: BLAS's choice
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    scale = np.abs(expected.detach().numpy()).max()
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=0, atol=rtol * scale)
    g = rng.standard_normal((rows, fan_out)).astype(dtype)
    y.backward(ffnn.from_numpy(g))
    expected.backward(torch.from_numpy(g))
    for a, t in zip(ours, theirs):
        reference = t.grad.numpy()
        np.testing.assert_allclose(a.grad.numpy(), reference, rtol=0,
                                   atol=rtol * np.abs(reference).max() * 10)


def test_bias_first_forward_declines_what_it_cannot_take():
    """None (the product, then the bias added) for a small output, a view that is not
    C-contiguous, mixed dtypes, a bias of another shape, and one input."""
    from ffnn import accel

    if not accel.enabled:
        pytest.skip("the compiled kernels are off")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 256)).astype(np.float32)
    w = rng.standard_normal((512, 256)).astype(np.float32)
    b = rng.standard_normal(512).astype(np.float32)
    assert accel.bias_first_forward(x, w, b) is not None
    assert accel.bias_first_forward(x[:100, :10], w[:10, :10], b[:10]) is None  # small
    assert accel.bias_first_forward(np.asfortranarray(x), w, b) is None
    assert accel.bias_first_forward(x, w.astype(np.float64), b) is None
    assert accel.bias_first_forward(x, w, b[:, None]) is None
    assert accel.bias_first_forward(x[:, :1].copy(), w[:, :1].copy(), b) is None


@pytest.mark.parametrize("m,n", [(2, 8), (4, 3), (16, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_product_summed_over_no_rows_is_zeros(m, n, dtype):
    """[m, 0] · [0, n] (an empty batch's weight gradient gᵀ x) is zeros, as NumPy's; the
    loops of few rows read a row past the end of the empty operand."""
    from ffnn.ops.matrix import product, weight_product

    for _ in range(5):  # new output arrays, whatever the memory held before
        np.full((m, n), np.nan, dtype)  # freed memory for the next output to reuse
        assert np.array_equal(product(np.ones((0, m), dtype).T, np.ones((0, n), dtype)),
                              np.zeros((m, n), dtype))
        assert np.array_equal(weight_product(np.ones((0, m), dtype), np.ones((0, n), dtype)),
                              np.zeros((m, n), dtype))
