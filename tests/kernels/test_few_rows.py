"""Products of a few rows (``ffnn.kernels.few_rows``) against the float64 product, within
the rounding of a sum of k products in the arrays' dtype; ``ffnn.ops.matrix.product`` and
``weight_product`` take them for 2-4 rows (or a sum over 2-4 rows), a forward for up to 12
rows on a small weight, and BLAS otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn import accel
from tests.helpers import without_mkl

pytestmark = pytest.mark.skipif(not accel.enabled, reason="the kernels need numba")

SHAPES = [(2, 9, 5), (3, 784, 258), (4, 5, 4), (2, 2, 7), (4, 33, 1), (3, 4, 130), (5, 17, 7),
          (16, 100, 10)]
"""(m, k, n): rows, inner sizes and widths around the loops' blocks of two and four, and one
column."""


def _within_rounding(got, a, b):
    """|got - a·b| within k ulps of Σ|a||b| (the float64 product the reference)."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    bound = (a.shape[1] + 1) * np.finfo(got.dtype).eps * (np.abs(a64) @ np.abs(b64))
    assert got.dtype == a.dtype
    assert np.all(np.abs(got - a64 @ b64) <= bound)


@pytest.fixture
def few_rows(monkeypatch):
    """The module, with the products that take its loops on OpenBLAS (MKL, where used, takes
    them first: ``ffnn.kernels.mkl_products``)."""
    from ffnn.kernels import few_rows

    without_mkl(monkeypatch)
    return few_rows


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, k, n", SHAPES)
def test_each_product_is_the_product(few_rows, m, k, n, dtype, rng):
    a = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((n, k)).astype(dtype)
    c = np.full((m, n), np.nan, dtype)
    few_rows.rows_times_transposed(a, w, c)  # x Wᵀ
    _within_rounding(c, a, w.T)
    g = rng.standard_normal((m, n)).astype(dtype)
    d = np.full((m, k), np.nan, dtype)
    few_rows.rows_times(g, w, d)  # g W
    _within_rounding(d, g, w)
    e = np.full((n, k), np.nan, dtype)
    few_rows.transposed_times(g, a, e)  # gᵀ x, a sum over m rows
    _within_rounding(e, g.T, a)


def test_rows_times_sums_in_order(few_rows):
    """The inner index summed in order: 1 + 2⁻²⁴ + 2⁻²⁴ … in float32 stays 1 (each addition
    rounds back), where a pairwise or reassociated sum gives 1 + 8·2⁻²⁴."""
    k = 17
    a = np.ones((2, k), np.float32)
    b = np.full((k, 3), 2.0 ** -24, np.float32)
    b[0] = 1.0
    c = np.empty((2, 3), np.float32)
    few_rows.rows_times(a, b, c)
    np.testing.assert_array_equal(c, np.ones((2, 3), np.float32))
    e = np.empty((3, 3), np.float32)
    few_rows.transposed_times(np.ones((4, 3), np.float32), b[:4], e)
    np.testing.assert_array_equal(e, np.ones((3, 3), np.float32))


@pytest.mark.parametrize("m, k, n, expected", [
    (2, 300, 40, "rows_times_transposed"), (4, 300, 40, "rows_times_transposed"),
    (1, 300, 40, None), (5, 300, 40, "rows_times_transposed"),
    (12, 300, 40, "rows_times_transposed"), (13, 300, 40, None), (5, 512, 257, None),
    (300, 3, 40, "transposed_times")])
def test_product_takes_them_for_few_rows(few_rows, monkeypatch, m, k, n, expected, rng):
    """``Linear``'s forward product x Wᵀ and ``weight_product(g, x)`` for dL/dW: the loops
    for 2-4 rows, and for a forward of up to 12 rows on a weight of at most 2¹⁷ elements
    (W [257, 512] has more); BLAS for one row (gemv) and for the other products."""
    from ffnn.ops import matrix

    called = []
    for name in ("rows_times_transposed", "rows_times", "transposed_times"):
        original = getattr(few_rows, name)
        monkeypatch.setattr(few_rows, name, lambda *args, _f=original, _n=name: (
            called.append(_n), _f(*args)))
    if expected == "transposed_times":
        g, x = rng.standard_normal((k, m)), rng.standard_normal((k, n))
        got, reference = matrix.weight_product(g, x), (g.T, x)
    else:
        x, w = rng.standard_normal((m, k)), rng.standard_normal((n, k))
        got, reference = _forward(x, w), (x, w.T)
    assert called == ([expected] if expected else [])
    _within_rounding(got, *reference)


@pytest.mark.parametrize("m", [2, 3, 7])
def test_one_output_or_one_input_takes_the_compiled_chains_loop(few_rows, monkeypatch, m,
                                                                rng):
    """A weight of one row (one output) or one column (one input) is C-contiguous both ways:
    the forward x Wᵀ takes ``rows_times_transposed`` and dL/dx = g W takes ``rows_times``
    (or BLAS from 5 rows), as the compiled chains' ``_gemm`` does for the same products."""
    from ffnn.ops import matrix

    called = []
    for name in ("rows_times_transposed", "rows_times"):
        original = getattr(few_rows, name)
        monkeypatch.setattr(few_rows, name, lambda *args, _f=original, _n=name: (
            called.append(_n), _f(*args)))
    x, w = rng.standard_normal((m, 30)), rng.standard_normal((1, 30))
    _within_rounding(_forward(x, w), x, w.T)
    g, w_in = rng.standard_normal((m, 30)), rng.standard_normal((30, 1))
    _within_rounding(matrix.product(g, w_in), g, w_in)
    assert called == ["rows_times_transposed"] + (["rows_times"] if m <= 4 else [])


def test_a_weight_stored_transposed_takes_rows_times(few_rows, monkeypatch, rng):
    """A Linear's weight laid out in Fortran order has Wᵀ C-contiguous: its forward on 3
    rows is a · b by ``rows_times`` (before, and still), not GEMM."""
    called = []
    original = few_rows.rows_times
    monkeypatch.setattr(few_rows, "rows_times",
                        lambda *args: (called.append(1), original(*args)))
    x, w = rng.standard_normal((3, 30)), np.asfortranarray(rng.standard_normal((20, 30)))
    _within_rounding(_forward(x, w), x, w.T)
    assert called == [1]


def _forward(x, w):
    """``Linear``'s forward x Wᵀ, as an op needing no gradient runs it."""
    from ffnn.ops import matrix

    op = matrix.Linear()
    op.needs_input_grad = (False, False)
    return op.forward(x, w)


def test_product_with_the_kernels_off_is_numpys(monkeypatch, rng):
    from ffnn.ops import matrix

    monkeypatch.setattr(accel, "enabled", False)
    x, w = rng.standard_normal((3, 50)), rng.standard_normal((20, 50))
    np.testing.assert_array_equal(matrix.product(x, w.T), x @ w.T)
    assert accel.few_rows_product(x, w.T) is None
