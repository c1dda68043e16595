"""A layer's bias written into every row of its output (``ffnn.kernels.bias_rows``), whole
or by parts of rows on OpenBLAS's threads: every row is the bias, whoever writes it; a part
writes its own rows and no other."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from ffnn import accel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, width", [(1001, 70), (3, 5), (257, 512)])
def test_every_row_is_the_bias_split_or_whole(rows, width, dtype):
    """From ``SPLIT_MIN`` elements the fill runs by parts where OpenBLAS's split is at hand
    (an odd count of rows: parts of unequal size); below it, without a split row or an
    entry point, whole. Every element is the bias's in each case."""
    from ffnn.kernels import bias_rows, blas_split, native

    rng = np.random.default_rng(rows)
    bias = rng.standard_normal(width).astype(dtype)
    found = blas_split.splitter()
    splits = [blas_split.NO_SPLIT] + ([found.row(np.dtype(dtype).itemsize)] if found else [])
    entry = int(native.blas_functions(dtype)[native.BIAS_ROWS_PART])
    for split in splits:
        for address in {entry, 0}:
            z = np.full((rows, width), np.nan, dtype)
            bias_rows.fill_by_parts(z, bias, split, address)
            np.testing.assert_array_equal(z, np.broadcast_to(bias, z.shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_part_writes_its_own_rows_and_no_other(dtype):
    """The C entry point on rows 4-9 of 12 (its address moved to row 4, as the split routine
    hands a part its range): those rows are the bias, the others untouched."""
    from ffnn.kernels import bias_rows

    width, itemsize = 37, np.dtype(dtype).itemsize
    z, bias = np.zeros((12, width), dtype), np.arange(1, width + 1, dtype=dtype)
    scalars = np.array([float(width)])
    part = bias_rows.part_f64 if dtype == np.float64 else bias_rows.part_f32
    call = ctypes.CFUNCTYPE(None, *[ctypes.c_int64] * 8)(part.address)
    call(6, z.ctypes.data + 4 * width * itemsize, bias.ctypes.data, 0, 0, 0, 0,
         scalars.ctypes.data)
    np.testing.assert_array_equal(z[4:10], np.broadcast_to(bias, (6, width)))
    assert not z[:4].any() and not z[10:].any()
