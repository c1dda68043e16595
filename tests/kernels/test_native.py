"""Calls by address from compiled code: NumPy's own gemm gives ``numpy.matmul``'s bits, and a
kernel's C entry point computes what its loop computes."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn import accel
from ffnn.ops.activations import GELU_ERF, LEAKY_RELU, RELU

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")


def _compiled():
    import numba

    from ffnn.kernels.native import NO_TRANS, TRANS, call_entry, call_gemm

    @numba.njit
    def product(address, a, b, c, trans_a, trans_b):
        m, n = c.shape
        k = a.shape[0] if trans_a else a.shape[1]
        call_gemm(address, TRANS if trans_a else NO_TRANS, TRANS if trans_b else NO_TRANS,
                  m, n, k, c.dtype.type(1), a.ctypes.data, a.shape[1], b.ctypes.data,
                  b.shape[1], c.dtype.type(0), c.ctypes.data, n)

    @numba.njit
    def run(address, n, a0, a1, a2, a3, scalars):
        call_entry(address, n, a0, a1, a2, a3, 0, 0, scalars)

    return product, run


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a, trans_b", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_gemm_by_address_is_numpys_matmul(dtype, trans_a, trans_b, rng):
    from ffnn.kernels.native import gemm_addresses

    addresses = gemm_addresses()
    if addresses is None:
        pytest.skip("NumPy here does not link scipy-openblas64")
    product, _ = _compiled()
    m, n, k = 67, 45, 130
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    c = np.full((m, n), np.nan, dtype)
    product(addresses[dtype == np.float64], a, b, c, trans_a, trans_b)
    expected = (a.T if trans_a else a) @ (b.T if trans_b else b)
    assert np.array_equal(c, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_entry_points_compute_what_the_loops_compute(dtype, rng):
    """RELU keeps a bool mask; LEAKY_RELU and GELU take a scalar; GELU's backward reads two
    saved arrays. Each entry point against the NumPy-facing ``Pointwise`` calls."""
    _, run = _compiled()
    dtype = np.dtype(dtype)
    x = rng.standard_normal(1001).astype(dtype) * 3
    grad = rng.standard_normal(x.size).astype(dtype)
    cases = [(RELU, {}), (LEAKY_RELU, {"negative_slope": 0.2}),
             (GELU_ERF, {"inv_sqrt_2pi": 1 / np.sqrt(2 * np.pi)})]
    for pointwise, scalars in cases:
        kinds = {k: d for k, d in zip(pointwise.kept, pointwise.kept_dtypes) if d is not None}
        values = np.array([scalars[s] for s in pointwise.scalars] or [0.0])
        y_ref, saved_ref = pointwise.forward(x, **scalars)
        y = np.empty_like(x)
        kept = [np.empty(x.size, d or dtype) for d in pointwise.kept_dtypes]
        addresses = [a.ctypes.data for a in (x, y, *kept)]
        run(pointwise.forward_kernel.entry(dtype, kinds), x.size,
            *(addresses + [0] * (4 - len(addresses))), values.ctypes.data)
        assert np.array_equal(y, y_ref), pointwise.name
        given = dict(zip(pointwise.kept, kept), x=x, y=y)
        saved = [given[name] for name in pointwise.saved]
        for a, b in zip(saved, saved_ref):
            assert a.dtype == b.dtype and np.array_equal(a, b), pointwise.name
        out = np.empty_like(x)
        addresses = [a.ctypes.data for a in (grad, *saved, out)]
        run(pointwise.backward_kernel.entry(dtype, kinds), x.size,
            *(addresses + [0] * (4 - len(addresses))), values.ctypes.data)
        assert np.array_equal(out, pointwise.backward(grad, saved_ref, **scalars)), \
            pointwise.name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_entry_point_of_a_kernel_with_flags_is_its_variant(dtype, amsgrad, rng):
    """Adam's kernel through an entry point (optional max_exp_avg_sq present or not, its
    scalars from ``adam_kernel_scalars``) gives the by-name call's bits."""
    from ffnn.optim.adam import ADAM_KERNEL, adam_kernel_scalars

    scalars = adam_kernel_scalars(step=3, lr=1e-2, beta1=0.9, beta2=0.99, eps=1e-8,
                                  weight_decay=0.1, maximize=False,
                                  decoupled_weight_decay=True)
    arrays = [rng.standard_normal(999).astype(dtype) for _ in range(4)]
    arrays += [np.abs(arrays[3]) + 0.5]  # max_exp_avg_sq
    arrays[3] = np.abs(arrays[3])
    mine = [a.copy() for a in arrays]
    names = ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    given = dict(zip(names, arrays))
    if not amsgrad:
        given["max_exp_avg_sq"] = None
    ADAM_KERNEL(**given, **scalars)
    values = np.array([scalars[name] for name in ADAM_KERNEL.scalars])
    entry = ADAM_KERNEL.entry(np.dtype(dtype), flags={"has_max_exp_avg_sq": amsgrad})
    _call_five(entry, mine[0].size, [a.ctypes.data for a in mine], values)
    for name, a, b in zip(names, arrays, mine):
        assert np.array_equal(a, b), name


def _call_five(entry, n, addresses, values):
    """Call an entry point on five arrays."""
    import numba

    from ffnn.kernels.native import call_entry

    @numba.njit
    def five(address, n, a0, a1, a2, a3, a4, scalars):
        call_entry(address, n, a0, a1, a2, a3, a4, 0, scalars)

    five(entry, n, *addresses, values.ctypes.data)


def test_entry_points_need_every_flag():
    from ffnn.optim.adam import ADAM_KERNEL

    with pytest.raises(TypeError, match=r"needs the flags \['has_max_exp_avg_sq'\]"):
        ADAM_KERNEL.entry(np.dtype(np.float32))


def test_compiled_code_sets_and_restores_openblas_threads():
    """``set_threads`` / ``get_threads`` call OpenBLAS's own thread-count functions by
    address (``blas_functions``), as ctypes sees them."""
    import numba

    from ffnn.kernels.native import (
        GET_THREADS,
        SET_THREADS,
        blas_functions,
        get_threads,
        set_threads,
        thread_functions,
    )

    found = thread_functions()
    if found is None:
        pytest.skip("NumPy here does not link scipy-openblas64")
    setter, getter = found
    row = blas_functions(np.float32)

    @numba.njit
    def swap(row, count):
        before = get_threads(row[GET_THREADS])
        set_threads(row[SET_THREADS], count)
        return before

    before = getter()
    try:
        assert swap(row, 1) == before and getter() == 1
        assert swap(row, before) == 1 and getter() == before
    finally:
        setter(before)
