"""Subnormal floats flushed to zero (``ffnn.kernels.denormals``): inside the loops of kernels
that ask for it (the optimizers' updates), on whichever thread runs them, and on the calling
thread where a program asks (``ffnn.set_flush_denormal``, as torch's); the caller's
setting is given back after each kernel."""

from __future__ import annotations

import numpy as np
import pytest

import ffnn
from ffnn import accel
from ffnn.kernels import ElementwiseKernel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

if accel.available:
    from ffnn.kernels import denormals

x86_64 = pytest.mark.skipif(not accel.available or not denormals.X86_64,
                            reason="FTZ and DAZ are x86's")

SMALLEST_NORMAL = {np.float32: np.finfo(np.float32).tiny, np.float64: np.finfo(np.float64).tiny}


def _scale_kernel(flush: bool) -> ElementwiseKernel:
    return ElementwiseKernel(f"test_scale_{'flush' if flush else 'ieee'}", reads=("x",),
                             writes=("y",), scalars=("s",), body="y = x * s",
                             flush_subnormals=flush)


SCALE = {flush: _scale_kernel(flush) for flush in (False, True)}


def _subnormal(dtype) -> np.ndarray:
    """Subnormal numbers of ``dtype`` and their negatives, nonzero."""
    tiny = SMALLEST_NORMAL[dtype]
    values = np.array([tiny / 2, tiny / 1024, tiny * 0.999], dtype)
    assert np.all(values != 0) and np.all(np.abs(values) < tiny)
    return np.concatenate([values, -values])


@x86_64
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_flushing_kernel_writes_zero_where_a_result_is_subnormal(dtype):
    tiny = SMALLEST_NORMAL[dtype]
    x = np.array([tiny * 4, -tiny * 16, 3.0, tiny * 128], dtype)
    expected = x * dtype(1 / 64)  # NumPy on this thread: gradual underflow
    assert np.count_nonzero(np.abs(expected[:2]) < tiny) == 2 and np.all(expected[:2] != 0)
    for flush in (False, True):
        y = np.full_like(x, np.nan)
        SCALE[flush](x=x, y=y, s=1 / 64)
        if flush:
            np.testing.assert_array_equal(y[:2], 0)
        else:
            np.testing.assert_array_equal(y[:2], expected[:2])
        np.testing.assert_array_equal(y[2:], expected[2:])  # normal results: IEEE's


@x86_64
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_flushing_kernel_reads_a_subnormal_input_as_zero(dtype):
    x = _subnormal(dtype)
    for flush in (False, True):
        y = np.full_like(x, np.nan)
        SCALE[flush](x=x, y=y, s=2.0 ** 60)  # would make every one a large normal number
        np.testing.assert_array_equal(y, 0 if flush else x * dtype(2.0 ** 60))


@x86_64
@pytest.mark.parametrize("callers", [False, True])
def test_the_callers_setting_is_given_back(callers):
    x = _subnormal(np.float32)
    try:
        denormals.set_calling_thread(callers)
        before = denormals.control()
        assert bool(before & denormals.FLUSH_BITS) == callers
        SCALE[True](x=x, y=np.empty_like(x), s=1.0)
        assert denormals.control() == before
        flushed_here = np.float32(1e-30) * np.float32(1e-10) == 0  # NumPy on this thread
        assert flushed_here == callers
    finally:
        denormals.set_calling_thread(False)


STATE_KEYS = {"adam": "exp_avg_sq", "adamw": "exp_avg_sq", "rmsprop": "square_avg",
              "adagrad": "sum", "sgd_momentum": "momentum_buffer"}


@x86_64
@pytest.mark.skipif(not accel.enabled, reason="FFNN_ACCEL=0: the NumPy reference updates")
@pytest.mark.parametrize("name", list(STATE_KEYS))
def test_an_optimizer_step_flushes_the_subnormals_training_makes(name, monkeypatch):
    """Gradients of 1e-20 make g² = 1e-40, subnormal in float32; a momentum whose gradients
    stop decays into subnormals (0.9ᵗ·1e-37). The compiled update (every element, the parts
    run on OpenBLAS's threads included) keeps 0 where the NumPy reference keeps subnormals;
    the parameters move as the reference's, to rounding."""
    rng = np.random.default_rng(0)
    start = rng.standard_normal(1 << 18).astype(np.float32)
    noise = rng.standard_normal(start.size)
    if name == "sgd_momentum":
        grads = [(noise * 1e-37).astype(np.float32)] + [np.zeros_like(start)] * 30
    else:
        grads = [(noise * 1e-20).astype(np.float32)] * 3
    results = []
    for mode in ("compiled", "reference"):
        if mode == "reference":
            monkeypatch.setattr(accel, "enabled", False)  # FFNN_ACCEL=0's updates
        param = ffnn.nn.Parameter(ffnn.from_numpy(start.copy()))
        optimizer = _optimizer(name, param)
        for grad in grads:
            param.grad = ffnn.from_numpy(grad.copy())
            optimizer.step()
        state = np.asarray(optimizer.state[param][STATE_KEYS[name]])
        results.append((param.detach().numpy().copy(), state.copy()))
    (compiled, compiled_state), (reference, reference_state) = results
    np.testing.assert_allclose(compiled, reference, rtol=1e-6, atol=0)
    subnormal = (reference_state != 0) & (np.abs(reference_state) < SMALLEST_NORMAL[np.float32])
    assert np.mean(subnormal) > 0.9
    np.testing.assert_array_equal(compiled_state[subnormal], 0)
    np.testing.assert_allclose(compiled_state[~subnormal], reference_state[~subnormal],
                               rtol=1e-6, atol=0)


def _optimizer(name: str, param):
    if name == "adam":
        return ffnn.optim.Adam([param], lr=1e-3)
    if name == "adamw":
        return ffnn.optim.AdamW([param], lr=1e-3)
    if name == "rmsprop":
        return ffnn.optim.RMSprop([param], lr=1e-3)
    if name == "adagrad":
        return ffnn.optim.Adagrad([param], lr=1e-2)
    return ffnn.optim.SGD([param], lr=1e-2, momentum=0.9)


def test_set_flush_denormal_as_torch():
    try:
        supported = ffnn.set_flush_denormal(True)
        assert supported == denormals.X86_64
        if supported:
            assert np.float32(1e-30) * np.float32(1e-10) == 0
        assert ffnn.set_flush_denormal(False) == supported
        assert np.float32(1e-30) * np.float32(1e-10) != 0
    finally:
        ffnn.set_flush_denormal(False)


@pytest.mark.parametrize("mode", [1, None, "yes"])
def test_set_flush_denormal_takes_a_bool(mode):
    with pytest.raises(TypeError, match=r"set_flush_denormal expects a bool\. Received"):
        ffnn.set_flush_denormal(mode)
