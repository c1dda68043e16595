"""An outer product a bᵀ written row by row (``ffnn.kernels.outer_rows``), whole or by parts of
rows on OpenBLAS's threads: every element is its one product a[i]·b[j], whoever writes it;
the eager product of inner size one and the compiled chains' weight gradient of one row
take it."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

import ffnn
from ffnn import accel, nn, optim
from tests.helpers import assert_chain_matches_graph

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, width", [(1001, 67), (3, 5), (1, 70000), (300, 1)])
def test_every_element_is_its_product_split_or_whole(rows, width, dtype):
    """From ``SPLIT_MIN`` elements by parts where OpenBLAS's split is at hand (an odd count
    of rows: parts of unequal size); below it, without a split row or an entry point, or
    from one row, whole. Each element equals NumPy's broadcast product bit for bit."""
    from ffnn.kernels import blas_split, native, outer_rows

    rng = np.random.default_rng(rows)
    a, b = rng.standard_normal(rows).astype(dtype), rng.standard_normal(width).astype(dtype)
    expected = a[:, None] * b[None, :]
    found = blas_split.splitter()
    splits = [blas_split.NO_SPLIT] + ([found.row(np.dtype(dtype).itemsize)] if found else [])
    entry = int(native.blas_functions(dtype)[native.OUTER_ROWS_PART])
    assert entry != 0 or native.blas_functions(dtype)[native.GEMM] == 0
    for split in splits:
        for address in {entry, 0}:
            out = np.full((rows, width), np.nan, dtype)
            outer_rows.outer_by_parts(a, b, out, split, address)
            np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_part_writes_its_own_rows_and_no_other(dtype):
    """The C entry point on rows 4-9 of 12 (a's and out's addresses moved to row 4, as the
    split routine hands a part its range): those rows are their products, the others
    untouched."""
    from ffnn.kernels import outer_rows

    width, itemsize = 37, np.dtype(dtype).itemsize
    a, b = np.arange(1, 13, dtype=dtype), np.linspace(-1, 1, width, dtype=dtype)
    out, scalars = np.zeros((12, width), dtype), np.array([float(width)])
    part = outer_rows.part_f64 if dtype == np.float64 else outer_rows.part_f32
    call = ctypes.CFUNCTYPE(None, *[ctypes.c_int64] * 8)(part.address)
    call(6, a.ctypes.data + 4 * itemsize, b.ctypes.data, out.ctypes.data + 4 * width * itemsize,
         0, 0, 0, scalars.ctypes.data)
    np.testing.assert_array_equal(out[4:10], a[4:10, None] * b[None, :])
    assert not out[:4].any() and not out[10:].any()


@pytest.mark.skipif(not accel.enabled, reason="FFNN_ACCEL=0: NumPy's broadcast")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, width", [(4096, 1024), (70, 80)])
def test_the_eager_product_of_inner_size_one_is_the_broadcast_product(rows, width, dtype):
    from ffnn.ops.matrix import product

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(dtype) for s in ((rows, 1), (1, width)))
    np.testing.assert_array_equal(product(a, b), a * b)


@pytest.mark.skipif(not accel.enabled, reason="the native chain needs the compiled kernels")
def test_a_chain_s_weight_gradients_of_one_row_are_the_per_layer_graph_s(rng, monkeypatch):
    """A batch of one row through a Sequential whose weights have ``SPLIT_MIN`` elements
    and more: the native chain's gradients (outer products by parts) are the per-layer
    graph's, step after step, to rounding (their tanh and sums differ in the last bits,
    which a float32 MSE gradient's cancellation magnifies); so are those of three rows
    (loops: the first row's terms written, the others added)."""
    from ffnn.compiler import native_chain

    chain_bytes = native_chain.MAX_BYTES
    models = []
    for _ in range(2):
        ffnn.manual_seed(0)
        models.append(nn.Sequential(nn.Linear(300, 400), nn.Tanh(), nn.Linear(400, 200)))
    optimizers = [optim.SGD(m.parameters(), lr=0.05) for m in models]
    loss_fn = nn.MSELoss()
    for rows in (1, 1, 3):
        x = ffnn.tensor(rng.standard_normal((rows, 300)).astype(np.float32))
        y = ffnn.tensor(rng.standard_normal((rows, 200)).astype(np.float32))
        grads = []
        for model, opt, limit in zip(models, optimizers, (0, chain_bytes)):
            monkeypatch.setattr(native_chain, "MAX_BYTES", limit)  # 0: the per-layer graph
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            grads.append([p.grad.numpy().copy() for p in model.parameters()])
            opt.step()
        for expected, got in zip(*grads):
            np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-6)
            assert np.abs(got).max() > 1e-3


@pytest.mark.skipif(not accel.enabled, reason="the chains need the compiled kernels")
@pytest.mark.parametrize("mode", ["native", "fused"])
def test_one_input_and_one_output_layers_at_a_large_batch(mode, rng, monkeypatch):
    """x [2048, 1] · W₁ᵀ and dL/dh = g · W₂ of a one-output layer are outer products of
    131,072 elements (by parts): the native chain's (the eager step of a Sequential) or
    the fused step's losses and parameters are the per-layer graph's, to rounding."""
    xs = [rng.uniform(-2, 2, (2048, 1)).astype(np.float32) for _ in range(3)]
    batches = [(ffnn.tensor(x), ffnn.tensor(np.sin(x))) for x in xs]
    assert_chain_matches_graph(
        lambda: nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 1)), nn.MSELoss(),
        batches, mode, monkeypatch, atol=1e-6)
