"""A compiled kernel that writes one array and sums in the same call gives the same bits
wherever its arrays lie in memory. The compiler guards a vectorised loop that writes with a
run-time check on the arrays' addresses and runs a serial loop when they lie close; a sum
whose order follows that choice differed by an ulp from one run to the next (NumPy's
allocator places small arrays where it finds room), which made a compiled replay differ
from the eager step once in a while. Each kernel here runs on its arrays placed in one
buffer in every order, 0 to 11 elements apart."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ffnn import accel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

LENGTHS = [*range(1, 20), 31, 32, 33, 63, 64, 255, 256, 257, 1000]
DTYPES = [np.float32, np.float64]


def _orders(count: int) -> list:
    """Every order of ``count`` arrays up to four; beyond, each rotation of the given order
    and of its reverse (every array first and last, and next to each other one)."""
    if count <= 4:
        return list(itertools.permutations(range(count)))
    ahead = list(range(count))
    return [ahead[k:] + ahead[:k] for k in range(count)] + \
        [ahead[::-1][k:] + ahead[::-1][:k] for k in range(count)]


def _placements(shapes: list, dtypes: list):
    """Views of ``shapes`` (of ``dtypes``) in one zeroed buffer, in each of ``_orders``, with
    every gap of 0 to 11 elements of 8 bytes between neighbours."""
    sizes = [math.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in zip(shapes, dtypes)]
    for order in _orders(len(shapes)):
        for gap in range(12):
            raw = np.zeros(sum(sizes) + 8 * gap * len(shapes) + 64, np.uint8)
            views, start = [None] * len(shapes), 64 - raw.ctypes.data % 64
            for k in order:
                views[k] = raw[start:start + sizes[k]].view(dtypes[k]).reshape(shapes[k])
                start += sizes[k] + 8 * gap
            yield views


def _outcomes(shapes, dtypes, inputs, call) -> set:
    """The distinct results (each as bytes) of ``call`` on ``inputs`` copied into every
    placement of arrays of ``shapes`` (the inputs first, the outputs after them)."""
    seen = set()
    for views in _placements(shapes, dtypes):
        for view, value in zip(views, inputs):
            view[...] = value
        seen.add(b"".join(np.asarray(r).tobytes() for r in call(*views)))
    return seen


def _index_order_sum(x, y) -> float:
    """Σ (x - y)², each difference and square in the arrays' dtype, added in index order in
    float64."""
    total = 0.0
    for d in x - y:
        total += float(d * d)
    return total


def _squared_difference(kernels, x, y, out):
    return kernels.squared_difference(x, y, out), out


def _squared_error_gradient(kernels, x, y, g):
    """The fused step's MSE pass: Σ (x - y)² and g = 2 (x - y) · 0.3."""
    total = kernels.squared_error_gradient(x, y, x.dtype.type(0.3), g)
    np.testing.assert_array_equal(g, ((x - y) + (x - y)) * x.dtype.type(0.3))
    return total, g


@pytest.mark.parametrize("kernel", [_squared_difference, _squared_error_gradient],
                         ids=["squared_difference", "squared_error_gradient"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", LENGTHS)
def test_mse_kernels_wherever_their_arrays_lie(n, dtype, kernel):
    """One result in every placement; below ``SERIAL_SUM_MAX`` the sum of an index-order
    loop, above it within rounding of one."""
    kernels = accel._kernels()
    rng = np.random.default_rng(n)
    x, y = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    outcomes = _outcomes([(n,)] * 3, [dtype] * 3, [x, y],
                         lambda a, b, out: kernel(kernels, a, b, out))
    assert len(outcomes) == 1
    total, _ = kernel(kernels, x, y, np.empty_like(x))
    if n < kernels.SERIAL_SUM_MAX:
        assert total == _index_order_sum(x, y)
    else:
        assert total == pytest.approx(_index_order_sum(x, y), rel=1e-13)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 4, 6, 7, 10, 15, 33])
def test_layer_norm_backward_wherever_its_arrays_lie(n, dtype):
    """Row sums and column sums in one loop (``_kernels.layer_norm_backward``)."""
    kernels, rows = accel._kernels(), 3
    rng = np.random.default_rng(n)
    g, x_hat = (rng.standard_normal((rows, n)).astype(dtype) for _ in range(2))
    rstd, w = rng.random(rows) + 0.5, rng.standard_normal(n).astype(dtype)

    def call(g, x_hat, rstd, w, grad_x, sum_gx, sum_g):
        kernels.layer_norm_backward(g, x_hat, rstd, w, True, grad_x, sum_gx, sum_g)
        return grad_x, sum_gx, sum_g

    shapes = [(rows, n), (rows, n), (rows,), (n,), (rows, n), (n,), (n,)]
    dtypes = [dtype, dtype, np.float64, dtype, dtype, np.float64, np.float64]
    assert len(_outcomes(shapes, dtypes, [g, x_hat, rstd, w], call)) == 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [10, 300])
def test_mse_kernels_write_over_an_input(n, dtype):
    """``out`` (``g``) may be x itself: each element is read before it is written. (From
    ``SERIAL_SUM_MAX`` elements the overlap sends the vectorised loop to its serial
    fallback, so the sum there is only within rounding of the one into another array.)"""
    kernels = accel._kernels()
    rng = np.random.default_rng(n)
    x, y = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    scale = dtype(0.3)
    for run in (lambda a, out: kernels.squared_difference(a, y, out),
                lambda a, out: kernels.squared_error_gradient(a, y, scale, out)):
        apart, same = np.empty_like(x), x.copy()
        expected, got = run(x, apart), run(same, same)
        np.testing.assert_array_equal(same, apart)
        if n < kernels.SERIAL_SUM_MAX:
            assert got == expected
        else:
            assert got == pytest.approx(expected, rel=1e-13)
