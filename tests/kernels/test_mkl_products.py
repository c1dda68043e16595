"""Intel MKL's products by parts on OpenBLAS's threads (``ffnn.kernels.mkl_products``): each
layout, split or whole, against a float64 reference; a part computes its own range; the
eager product and the compiled chains take the same calls, so their steps agree bit for
bit. MKL is forced on here (``FFNN_MKL=1``'s choice) on any x86-64 CPU where the ``mkl``
wheel is installed."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn, optim

pytestmark = pytest.mark.skipif(not accel.enabled, reason="numba off: NumPy's products")


def _library() -> str | None:
    from ffnn.kernels import mkl_products

    return mkl_products.library_path()


needs_mkl = pytest.mark.skipif(not accel.enabled or _library() is None,
                               reason="the mkl wheel is not installed (not x86-64)")


@pytest.fixture
def mkl_on(monkeypatch):
    """The BLAS rows rebuilt with MKL's entries, whatever the CPU; rebuilt as they were
    after the test."""
    from ffnn.kernels import mkl_products, native

    addresses = mkl_products.load(_library())
    assert addresses is not None
    monkeypatch.setattr(mkl_products, "gemm_addresses", lambda: addresses)
    mkl_products._functions.cache_clear()
    native._blas_functions.cache_clear()
    yield native.blas_functions
    monkeypatch.undo()
    mkl_products._functions.cache_clear()
    native._blas_functions.cache_clear()


def test_requested_by_the_environment_or_an_intel_cpu():
    """``FFNN_MKL`` decides where set; else the CPU's vendor."""
    from ffnn.kernels.mkl_products import requested

    intel, amd = "vendor_id\t: GenuineIntel\nflags : avx\n", "vendor_id\t: AuthenticAMD\n"
    assert requested({}, intel) and not requested({}, amd) and not requested({}, "")
    assert requested({"FFNN_MKL": "1"}, amd) and not requested({"FFNN_MKL": "0"}, intel)


def test_takes_no_vector_product_no_small_one_and_no_rows_in_conflicting_cache_sets():
    """One row or column stays OpenBLAS's gemv, under ``accel.MKL_MIN_PRODUCT``
    multiply-adds its gemm;
    a · b of 9-255 rows with b's rows 8 KiB apart too, not with b transposed, other
    strides or other row counts."""
    from ffnn.kernels.mkl_products import CONFLICT_ROWS, takes
    from ffnn.kernels.native import NO_TRANS, TRANS

    low, high = CONFLICT_ROWS
    assert takes(NO_TRANS, TRANS, 64, 256, 256, 4)
    assert not takes(NO_TRANS, TRANS, 1, 4096, 4096, 4)
    assert not takes(TRANS, NO_TRANS, 4096, 1, 4096, 4)
    assert not takes(NO_TRANS, NO_TRANS, 16, 16, accel.MKL_MIN_PRODUCT // 256 - 1, 4)
    assert takes(NO_TRANS, NO_TRANS, 16, 16, accel.MKL_MIN_PRODUCT // 256, 4)
    for rows in (low, 64, high):
        assert not takes(NO_TRANS, NO_TRANS, rows, 4096, 1024, 4)
        assert not takes(NO_TRANS, NO_TRANS, rows, 2048, 1024, 8)
        assert takes(NO_TRANS, NO_TRANS, rows, 4000, 1024, 4)
        assert takes(NO_TRANS, TRANS, rows, 4096, 1024, 4)
        assert takes(TRANS, NO_TRANS, rows, 4096, 1024, 4)
    assert takes(NO_TRANS, NO_TRANS, low - 1, 4096, 1024, 4)
    assert takes(NO_TRANS, NO_TRANS, high + 1, 4096, 1024, 4)


def _operand(rng, rows, cols, dtype, transposed):
    """A [rows, cols] operand, C-contiguous or the transpose of a C-contiguous array."""
    if transposed:
        return np.ascontiguousarray(rng.standard_normal((cols, rows)).astype(dtype)).T
    return rng.standard_normal((rows, cols)).astype(dtype)


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, False),
                                              (True, True)])
@pytest.mark.parametrize("m, k, n", [(37, 300, 91), (517, 300, 33), (64, 70, 64),
                                     (256, 512, 10)])
def test_every_layout_split_or_whole_is_the_product(mkl_on, m, k, n, trans_a, trans_b, dtype):
    """``matmul`` (parts of columns where n ≥ m, of rows else; odd sizes: a last part
    shorter than a unit) against float64 NumPy: float64 to 1e-12, float32 to its
    rounding."""
    from ffnn.kernels import mkl_products, native

    rng = np.random.default_rng(m * n + trans_a + 2 * trans_b)
    a = _operand(rng, m, k, dtype, trans_a)
    b = _operand(rng, k, n, dtype, trans_b)
    blas = mkl_on(dtype)
    assert blas[native.MKL] != 0
    got = mkl_products.matmul(a, b)
    assert got is not None and got.dtype == dtype
    expected = a.astype(np.float64) @ b.astype(np.float64)
    tolerance = 1e-12 if dtype == np.float64 else 2e-6
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)
    assert np.all(np.abs(got - expected) <= tolerance * scale)


@pytest.mark.skipif(not accel.enabled, reason="the kernels are off")
@pytest.mark.parametrize("n, count, unit, parts", [
    (400, 2, 8, (200, 200)), (512, 2, 16, (256, 256)), (100, 2, 8, (56, 44)),
    (784, 2, 8, (392, 392)), (1024, 2, 16, (512, 512)), (96, 3, 16, (32, 32, 32)),
    (333, 2, 8, (168, 165))])
def test_columns_are_cut_where_the_largest_part_is_smallest(n, count, unit, parts):
    """A product's columns go to the threads in ranges of 16, or of 8 where the largest
    part is then smaller (OpenBLAS hands the first parts ⌈units/parts left⌉ ranges each):
    400 columns as 200 + 200, not 208 + 192."""
    from ffnn.kernels import mkl_products

    assert mkl_products.column_unit(n, count) == unit
    assert mkl_products.largest_part(n, unit, count) == max(parts)
    assert sum(parts) == n and all(p % unit == 0 for p in parts[:-1])


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, n", [(40, 333), (333, 40)])
def test_parts_fill_each_element_once_and_add_into_c_with_beta_one(mkl_on, m, n, dtype):
    """``product`` in 1, 2 and 3 parts (more parts than threads: the split routine runs
    them in turn), β = 0 over a result of NaN and β = 1 over a result of ones: every
    element its product (plus one), none left NaN."""
    from ffnn.kernels import mkl_products, native

    rng = np.random.default_rng(n)
    k = 50
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    mkl = mkl_on(dtype)[native.MKL:]
    expected = a.astype(np.float64) @ b.astype(np.float64)
    tolerance = 1e-12 if dtype == np.float64 else 2e-5
    for count in (1, 2, 3) if mkl[mkl_products.SPLIT] != 0 else (1,):
        for beta, start in ((0.0, np.nan), (1.0, 1.0)):
            c = np.full((m, n), start, dtype)
            mkl_products.product(mkl, count, native.NO_TRANS, native.NO_TRANS, m, n, k,
                                 dtype(1), a.ctypes.data, k, b.ctypes.data, n, dtype(beta),
                                 c.ctypes.data, n)
            np.testing.assert_allclose(c, expected + beta, rtol=tolerance, atol=tolerance * k)


@needs_mkl
def test_the_eager_product_takes_mkl_and_splits_it(mkl_on):
    """``ffnn.ops.matrix.product`` of a forward, a weight gradient and dL/dx returns MKL's
    result bit for bit (of 4 rows and over 3 too, before the loops of few rows), and large
    ones run in as many parts as OpenBLAS has threads."""
    from ffnn.kernels import mkl_products, native
    from ffnn.ops.matrix import product

    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((256, 400)).astype(np.float32), \
        rng.standard_normal((300, 400)).astype(np.float32)
    g = rng.standard_normal((256, 300)).astype(np.float32)
    blas = mkl_on(np.float32)
    for left, right in ((x, w.T), (g.T, x), (g, w), (x[:4], w.T), (g[:3].T, x[:3])):
        np.testing.assert_array_equal(product(left, right), mkl_products.matmul(left, right))
    threads = native.thread_functions()[1]()
    expected_parts = min(threads, blas[native.MKL + mkl_products.PARTS]) \
        if blas[native.MKL + mkl_products.SPLIT] else 1
    assert mkl_products.parts(blas[native.MKL:], blas[native.GET_THREADS], 256, 300, 400) == \
        max(expected_parts, 1)


def _train(compiled: bool, widths: tuple[int, ...], rows: int, steps: int = 3):
    """The parameters after ``steps`` Adam steps of an MLP of ``widths`` (ReLU, then tanh)
    with cross-entropy on ``rows`` random rows, eager or through the fused step."""
    ffnn.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers += [nn.Linear(a, b), nn.ReLU() if i % 2 == 0 else nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = ffnn.tensor(rng.standard_normal((rows, widths[0])).astype(np.float32))
    y = ffnn.tensor(rng.integers(0, widths[-1], rows))
    step = ffnn.compile(model, loss_fn, opt, mode="fused") if compiled else None
    for _ in range(steps):
        if step is not None:
            step(x, y)
        else:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]


@needs_mkl
@pytest.mark.parametrize("widths, rows", [((96, 256, 320, 10), 200), ((8, 64, 48, 3), 8192),
                                          ((300, 512, 256, 10), 4), ((64, 96, 96, 10), 9)])
def test_eager_and_compiled_steps_agree_bit_for_bit_on_mkl(mkl_on, widths, rows):
    """Three Adam steps of an MLP (96-256-320-10 on 200 rows: products split, bias added
    by β = 1 in the compiled forward; 8-64-48-3 on 8192 rows: weight gradients that
    OpenBLAS would sum by parts of rows; 4 and 9 rows: products that the loops of few rows
    would take without MKL): the eager and the fused compiled step give the same
    parameters, bit for bit."""
    eager, compiled = _train(False, widths, rows), _train(True, widths, rows)
    for a, b in zip(eager, compiled):
        np.testing.assert_array_equal(a, b)


@needs_mkl
def test_a_product_of_two_tensors_and_its_gradients_take_mkl(mkl_on):
    """``a @ b`` of two float32 matrices (``MatMul``), forward and backward, is MKL's
    product bit for bit; a batched one stays NumPy's ``@``."""
    from ffnn.kernels import mkl_products, native

    rng = np.random.default_rng(2)
    a_np, b_np = rng.standard_normal((128, 96)).astype(np.float32), \
        rng.standard_normal((96, 160)).astype(np.float32)
    g_np = rng.standard_normal((128, 160)).astype(np.float32)
    assert mkl_on(np.float32)[native.MKL] != 0
    a, b = ffnn.tensor(a_np, requires_grad=True), ffnn.tensor(b_np, requires_grad=True)
    y = a @ b
    y.backward(ffnn.tensor(g_np))
    np.testing.assert_array_equal(y.detach().numpy(), mkl_products.matmul(a_np, b_np))
    np.testing.assert_array_equal(a.grad.numpy(), mkl_products.matmul(g_np, b_np.T))
    np.testing.assert_array_equal(b.grad.numpy(), mkl_products.matmul(a_np.T, g_np))
    batched = ffnn.tensor(a_np[None]) @ ffnn.tensor(b_np[None])
    np.testing.assert_array_equal(batched.numpy()[0], a_np @ b_np)


@needs_mkl
@pytest.mark.parametrize("rows, out_f, in_f", [(4096, 64, 40), (8192, 50, 3)])
def test_a_weight_gradient_over_many_rows_is_mkls_not_summed_by_parts(mkl_on, monkeypatch,
                                                                      rows, out_f, in_f):
    """Where MKL takes a gᵀ x that is not narrow, ``weight_product`` does not sum it by
    parts of rows (``splits_rows`` says it would on OpenBLAS): MKL's product, bit for bit."""
    from ffnn.kernels import mkl_products, native
    from ffnn.ops import matrix

    assert matrix.splits_rows(rows, out_f, in_f)
    assert not matrix.sums_by_rows(rows, out_f, in_f, True)
    monkeypatch.setattr(accel, "product_over_rows", lambda *a: pytest.fail("split by rows"))
    rng = np.random.default_rng(rows)
    g = rng.standard_normal((rows, out_f)).astype(np.float32)
    x = rng.standard_normal((rows, in_f)).astype(np.float32)
    assert mkl_on(np.float32)[native.MKL] != 0
    np.testing.assert_array_equal(matrix.weight_product(g, x),
                                  mkl_products.matmul(g.T, x))


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, out_f, in_f", [(6001, 20, 24), (6001, 1, 300), (6001, 12, 1)])
def test_a_sum_by_parts_of_rows_takes_one_mkl_call_a_part(mkl_on, rows, out_f, in_f, dtype):
    """With MKL in use, each part of ``row_parts.product_over_rows`` is one call of MKL's
    gemm (one output row or column too, where OpenBLAS's part is a gemv): for 2 parts,
    exactly g₀ᵀx₀ + g₁ᵀx₁ with each range's product MKL's; the eager narrow weight gradient
    and a large bias gradient go that way."""
    from ffnn.kernels import blas_split, native, row_parts
    from ffnn.ops import matrix

    assert mkl_on(dtype)[native.MKL] != 0
    rng = np.random.default_rng(rows + out_f)
    g = rng.standard_normal((rows, out_f)).astype(dtype)
    x = rng.standard_normal((rows, in_f)).astype(dtype)
    found = blas_split.splitter()
    if found is None or found.threads() != 2:
        pytest.skip("two BLAS threads are needed to know the parts")
    half = -(-rows // 2)  # OpenBLAS's first range: ceil(n / threads)
    first, second = (_mkl_gemm(g[s], x[s]) for s in (slice(0, half), slice(half, None)))
    got = row_parts.product_over_rows(g, x)
    np.testing.assert_array_equal(got, first + second)
    assert matrix.sums_by_rows(rows, out_f, in_f, True)
    np.testing.assert_array_equal(matrix.weight_product(g, x), got)
    if out_f == 1:
        ones = np.ones((rows, 1), dtype)
        np.testing.assert_array_equal(matrix.column_sums(x),
                                      row_parts.product_over_rows(ones, x)[0])


def _mkl_gemm(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """gᵀ x [out, in] for C-contiguous g [n, out], x [n, in] by one call of MKL's gemm on
    this thread, g read transposed (as a part reads it)."""
    from ffnn.kernels import mkl_products, native

    (k, m), n = g.shape, x.shape[1]
    out = np.zeros((m, n), g.dtype)
    one, zero = g.dtype.type(1), g.dtype.type(0)
    mkl_products.product(native.blas_functions(g.dtype)[native.MKL:], 1, native.TRANS,
                         native.NO_TRANS, m, n, k, one, g.ctypes.data, m, x.ctypes.data, n,
                         zero, out.ctypes.data, n)
    return out
