"""The compiled loops run on SIMD lanes: a structural check, not a timing.

A loop that stops vectorising still computes the same numbers, so every numerical test
passes while it runs 4-15x slower (an out-of-line helper call in the layer-norm loop once
cost 1.6 ms instead of 0.11 on [256, 512]). Each kernel here is compiled afresh with its own
options and its optimised LLVM IR must store its float32 results with vector stores
(``store <N x float>``), which any x86-64 target has (SSE2 at least).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from ffnn import accel

pytestmark = pytest.mark.skipif(not accel.available, reason="numba is not installed")

ROWS, WIDTH = 4, 8


def _llvm(dispatcher, *args) -> str:
    """The optimised LLVM IR of a fresh (uncached) compile of ``dispatcher`` on ``args``."""
    import numba

    options = {k: v for k, v in dispatcher.targetoptions.items()
               if k not in ("cache", "nopython")}
    fresh = numba.njit(**options)(dispatcher.py_func)
    fresh(*args)
    return fresh.inspect_llvm(fresh.signatures[0])


def _vector_stores(dispatcher, *args) -> int:
    """Vector stores of float32 values in a fresh (uncached) compile of ``dispatcher``."""
    return len(re.findall(r"store <\d+ x float>", _llvm(dispatcher, *args)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax_row", "bce_with_logits_row", "_softmax_narrow"])
def test_loss_rows_take_the_polynomials(name, dtype):
    """Cross-entropy's e^(x - max) and log s and the logits' BCE's exp and log1p are the
    vectorising polynomials (``exp_nonpositive``, ``log_of_sum``, ``log1p_unit``), not libm's:
    an ``llvm.exp`` call, even on vector lanes, is one libm call per element where numba has
    no SVML (then the whole loss took 4x longer on 1000 classes)."""
    x = np.linspace(-3, 3, WIDTH).astype(dtype)
    args = {"softmax_row": (x, np.empty_like(x)),
            "bce_with_logits_row": (x, np.ones_like(x), np.empty_like(x), dtype(0.5)),
            "_softmax_narrow": (x.reshape(2, -1), np.empty((2, WIDTH // 2), dtype),
                                np.empty(2, dtype), np.empty(2))}[name]
    ir = _llvm(getattr(accel._kernels(), name), *args)
    assert not re.search(r"call [^\n]*@(llvm\.)?(exp|log)", ir)
    if name == "_softmax_narrow" and dtype == np.float32:  # the exps across rows: on lanes
        assert len(re.findall(r"store <\d+ x float>", ir)) >= 1


def _arrays(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal((ROWS, WIDTH)).astype(np.float32) for _ in range(count)]


def _norm_kernels():
    kernels = accel._kernels()
    x, y, x_hat, g, grad_x = _arrays(5)
    w = np.ones(WIDTH, np.float32)
    stats = [np.zeros(WIDTH) for _ in range(3)]
    return {
        # kernel: (arguments, float32 arrays written element by element)
        "layer_norm_forward": (kernels.layer_norm_forward,
                               (x, w, w, 1e-5, y, x_hat, np.zeros(ROWS)), 2),
        "layer_norm_backward": (kernels.layer_norm_backward,
                                (g, x_hat, np.ones(ROWS), w, True, grad_x, *stats[:2]), 1),
        "batch_norm_forward": (kernels.batch_norm_forward,
                               (x, w, w, 1e-5, y, x_hat, *stats), 2),
        "batch_norm_backward": (kernels.batch_norm_backward,
                                (g, x_hat, np.ones(WIDTH), w, True, grad_x, *stats[:2]),
                                1),
        "add_rows": (kernels.add_rows, (y, w), 1),
        "softmax_row": (kernels.softmax_row, (x[0], y[0]), 2),  # cross-entropy's rows
        "squared_error_gradient": (kernels.squared_error_gradient,  # the fused step's MSE
                                   (x.reshape(-1), y.reshape(-1), np.float32(0.5),
                                    g.reshape(-1)), 1),
    }


@pytest.mark.parametrize("name", list(_norm_kernels()))
def test_row_and_column_kernels_store_vectors(name):
    kernel, args, outputs = _norm_kernels()[name]
    assert _vector_stores(kernel, *args) >= outputs


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "silu", "gelu", "gelu_tanh", "elu",
                                  "softplus"])
def test_generated_activation_loops_store_vectors(name):
    from ffnn.ops import activations

    pointwise = {"relu": activations.RELU, "sigmoid": activations.SIGMOID,
                 "tanh": activations.TANH, "silu": activations.SILU,
                 "gelu": activations.GELU_ERF, "gelu_tanh": activations.GELU_TANH,
                 "elu": activations.ELU_FORMULA, "softplus": activations.SOFTPLUS}[name]
    x, y, saved, grad = _arrays(4)
    scalars = [0.5] * len(pointwise.scalars)
    forward = pointwise.forward_kernel.loop(np.dtype(np.float32))
    kept = [saved.reshape(-1) if dtype is None else np.zeros(x.size, dtype)
            for dtype in pointwise.kept_dtypes]
    assert _vector_stores(forward, x.size, x.reshape(-1), y.reshape(-1), *kept, *scalars) >= 1
    backward = pointwise.backward_kernel.loop(np.dtype(np.float32))
    given = {**dict(zip(pointwise.kept, kept)), "x": x.reshape(-1), "y": y.reshape(-1)}
    saved_arrays = [given[s] for s in pointwise.saved]
    assert _vector_stores(backward, x.size, grad.reshape(-1), *saved_arrays,
                          np.empty(x.size, np.float32), *scalars) >= 1


@pytest.mark.parametrize("module, name", [
    ("adam", "ADAM_KERNEL"), ("sgd", "SGD_KERNEL"), ("rmsprop", "RMSPROP_KERNEL"),
    ("adagrad", "ADAGRAD_KERNEL"), ("adadelta", "ADADELTA_KERNEL")])
def test_generated_optimizer_loops_store_vectors(module, name):
    import importlib

    kernel = getattr(importlib.import_module(f"ffnn.optim.{module}"), name)
    loop = kernel.compiled((False,) * len(kernel.flags), True)  # every flag off
    arrays = [np.ones(64, np.float32) for _ in kernel.arrays]
    assert _vector_stores(loop, 64, *arrays, *[0.5] * len(kernel.scalars)) >= 1
