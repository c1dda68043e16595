"""Large kernel calls split over OpenBLAS's threads compute what the whole call computes, bit
for bit: an optimizer's multi-tensor update and an activation's forward and backward."""

from __future__ import annotations

import numpy as np
import pytest

from ffnn import accel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

SIZE = (1 << 16) + 37  # above SPLIT_MIN, odd: the two ranges differ in length


@pytest.fixture
def blas_split():
    from ffnn.kernels import blas_split

    return blas_split


@pytest.fixture
def whole(blas_split, monkeypatch):
    """Switch every call to whole (``splitter()`` None) inside a ``with whole():``."""
    import contextlib

    found = blas_split.splitter()

    @contextlib.contextmanager
    def running_whole():
        monkeypatch.setattr(blas_split, "splitter", lambda: None)
        try:
            yield
        finally:
            monkeypatch.setattr(blas_split, "splitter", lambda: found)

    return running_whole


def test_numpys_openblas_is_split(blas_split):
    """NumPy 2's wheels bundle OpenBLAS ≥ 0.3.27: the splitter is found and its probe passes
    (where NumPy links another BLAS there is nothing to find)."""
    from ffnn.kernels.native import numpy_openblas

    found = numpy_openblas()
    if found is None:
        assert blas_split.splitter() is None
        return
    library, prefix = found
    import ctypes

    config = getattr(library, f"{prefix}openblas_get_config{'64_' if prefix else ''}")
    config.restype = ctypes.c_char_p
    if blas_split._version(config()) >= blas_split.MIN_VERSION:
        assert blas_split.splitter() is not None


def _two_threads(blas_split):
    found = blas_split.splitter()
    if found is None or found.threads() < 2:
        pytest.skip("no OpenBLAS splitter with two threads here")
    return found


@pytest.mark.parametrize("name, options", [
    ("Adam", {"lr": 1e-2}), ("AdamW", {"lr": 1e-2, "amsgrad": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("RMSprop", {"lr": 1e-3})])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_update_is_the_whole_update(blas_split, whole, name, options, dtype, rng):
    import ffnn
    from ffnn import optim

    _two_threads(blas_split)
    start = rng.standard_normal(SIZE).astype(dtype)
    grads = [rng.standard_normal(SIZE).astype(dtype) for _ in range(3)]
    results = []
    for split in (True, False):
        param = ffnn.nn.Parameter(ffnn.tensor(start.copy()))
        opt = getattr(optim, name)([param], **options)
        for grad in grads:
            param.grad = ffnn.tensor(grad)
            if split:
                opt.step()
            else:
                with whole():
                    opt.step()
        results.append(param.detach().numpy().copy())
    assert not np.array_equal(results[0], start)
    np.testing.assert_array_equal(results[0], results[1])


@pytest.mark.parametrize("formula", ["RELU", "TANH", "SILU", "GELU_ERF", "LEAKY_RELU"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_activation_is_the_whole_activation(blas_split, whole, formula, dtype, rng):
    from ffnn.ops import activations

    _two_threads(blas_split)
    pointwise = getattr(activations, formula).for_dtype(np.dtype(dtype))
    scalars = {name: 0.02 for name in pointwise.scalars}
    x = (rng.standard_normal(SIZE) * 3).astype(dtype)
    grad = rng.standard_normal(SIZE).astype(dtype)
    y, saved = pointwise.forward(x, **scalars)
    dx = pointwise.backward(grad, saved, **scalars)
    with whole():
        y_whole, saved_whole = pointwise.forward(x, **scalars)
        dx_whole = pointwise.backward(grad, saved_whole, **scalars)
    np.testing.assert_array_equal(y, y_whole)
    for a, b in zip(saved, saved_whole):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dx, dx_whole)


def test_one_thread_or_a_small_array_runs_whole(blas_split, monkeypatch):
    """``run_arrays`` declines (runs nothing) below ``SPLIT_MIN`` and with one BLAS thread."""
    found = _two_threads(blas_split)
    entry = 1  # never called: a call would crash
    small = [np.zeros(accel.SPLIT_MIN - 1)]
    assert not blas_split.run_arrays(entry, small, np.zeros(1))
    monkeypatch.setattr(found, "threads", lambda: 1)
    assert not blas_split.run_arrays(entry, [np.zeros(SIZE)], np.zeros(1))


def test_switched_off_by_the_environment(blas_split, monkeypatch):
    monkeypatch.setenv("FFNN_BLAS_SPLIT", "0")
    assert blas_split.splitter.__wrapped__() is None
