"""512-bit vectors (``ffnn.kernels.vector_width``) change how many elements a loop computes at
once, never a value: each kernel against the same source compiled without them, bit for bit."""

from __future__ import annotations

import types

import numpy as np
import pytest

from ffnn import accel

pytestmark = pytest.mark.skipif(not accel.enabled, reason="the kernels need numba")
if accel.enabled:
    import numba

    from ffnn import _kernels
    from ffnn.kernels import elementwise, few_rows
    from ffnn.kernels.vector_width import PREFER_512
    from ffnn.ops import activations
    from ffnn.optim.adam import ADAM_KERNEL

WIDE_CALL = "    wide_vectors()\n"


def _values(rng: np.random.Generator, n: int, dtype) -> np.ndarray:
    """Normal values over a wide range, with zeros, the smallest normal numbers, subnormals
    and values past where exp under- and overflows; n not a multiple of a vector's lanes."""
    info = np.finfo(dtype)
    edges = [0.0, -0.0, info.tiny, -info.tiny, info.smallest_subnormal, 1e-30, -88.5, -104.0,
             89.0, 710.0, -745.5, 30.0, -30.0]
    x = rng.standard_normal(n) * 6
    x[:len(edges)] = edges
    return x.astype(dtype)


def _narrow_loop(kernel: elementwise.ElementwiseKernel, flags: dict, float32: bool):
    """The kernel's loop as generated, compiled without ``wide_vectors()``."""
    source = kernel.source(flags, float32)
    assert source.count(WIDE_CALL) == 1
    return elementwise._load(f"{kernel.name}_narrow", source.replace(WIDE_CALL, ""))


def _run_both(kernel, flags, dtype, inputs: dict, scalars: dict) -> None:
    """Run the wide and the narrow loop on copies of ``inputs``; every array they write
    must hold the same bits."""
    float32 = dtype == np.float32
    key = tuple(bool(flags[f]) for f in kernel.flags)
    loops = [kernel.compiled(key, float32), _narrow_loop(kernel, flags, float32)]
    results = []
    for loop in loops:
        arrays = {name: inputs[name].copy() for name in kernel.arrays}
        loop(next(iter(arrays.values())).size, *arrays.values(),
             *[float(scalars[s]) for s in kernel.scalars])
        results.append(arrays)
    for name in kernel.writes:
        wide, narrow = results[0][name], results[1][name]
        assert wide.view(np.uint8).tobytes() == narrow.view(np.uint8).tobytes(), name


ACTIVATION_LOOPS = {
    # between them, the scalar helpers: tanh, exp_small, normal_cdf_density, log1p, expm1
    "tanh forward": ("TANH", {}),
    "sigmoid forward": ("SIGMOID", {}),
    "gelu forward": ("GELU_ERF", {"inv_sqrt_2pi": 0.3989422804014327}),
    "softplus forward": ("SOFTPLUS", {"beta": 1.0, "threshold": 20.0}),
    "elu forward": ("ELU_FORMULA", {"alpha": 1.0, "scale": 1.0}),
    "gelu in place": ("GELU_IN_PLACE", {}),
}
"""Name: (the ``ffnn.ops.activations`` attribute, its scalars)."""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATION_LOOPS))
def test_activation_loops_same_bits(name, dtype):
    attribute, scalars = ACTIVATION_LOOPS[name]
    kernel = getattr(activations, attribute)
    kernel = getattr(kernel, "forward_kernel", kernel)
    rng = np.random.default_rng(7)
    n = 4099
    inputs = {a: _values(rng, n, dtype) for a in kernel.arrays}
    _run_both(kernel, {}, dtype, inputs, scalars)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_update_same_bits(dtype):
    rng = np.random.default_rng(3)
    n = 10_007
    inputs = {"param": rng.standard_normal(n).astype(dtype),
              "grad": (rng.standard_normal(n) * 1e-3).astype(dtype),
              "exp_avg": (rng.standard_normal(n) * 1e-3).astype(dtype),
              "exp_avg_sq": (rng.random(n) * 1e-6).astype(dtype),
              "max_exp_avg_sq": (rng.random(n) * 1e-6).astype(dtype)}
    scalars = {"decay": 1 - 1e-3 * 1e-2, "sign": 1.0, "weight_decay": 0.0,
               "one_minus_beta1": 0.1, "beta2": 0.999, "one_minus_beta2": 0.001,
               "step_size": 1e-3 / (1 - 0.9 ** 3), "bias_correction2_sqrt": (1 - 0.999 ** 3) ** 0.5,
               "eps": 1e-8}
    _run_both(ADAM_KERNEL, {"has_max_exp_avg_sq": True}, dtype, inputs, scalars)


def _without_wide_vectors(function):
    """``function`` (a compiled kernel) compiled again from its Python source, with its
    options, and ``wide_vectors()`` a no-op."""

    @numba.njit(inline="always")
    def nothing():
        pass

    py = function.py_func
    namespace = {**py.__globals__, "wide_vectors": nothing}
    copy = types.FunctionType(py.__code__, namespace, py.__name__, py.__defaults__)
    options = function.targetoptions  # the same fast-math flags (batch norm's allow reassoc)
    return numba.njit(error_model=options["error_model"], fastmath=options["fastmath"])(copy)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("classes", [3, 10, 100, 1001])
def test_softmax_rows_same_bits(dtype, classes):
    """Softmax over rows (``softmax_row`` and, up to ``NARROW_ROWS`` classes, the blocks of
    ``_softmax_narrow``) as the cross-entropy kernels compute it."""
    rng = np.random.default_rng(classes)
    x = (rng.standard_normal((300, classes)) * 8).astype(dtype)
    wide = np.empty_like(x)
    narrow_row = _without_wide_vectors(_kernels.softmax_row)
    narrow_block = _without_wide_vectors(_kernels._softmax_narrow)
    _kernels.softmax_parts(x, wide, np.empty(300, dtype), np.empty(300))
    narrow = np.empty_like(x)
    if classes <= _kernels.NARROW_ROWS:
        narrow_block(x, narrow, np.empty(300, dtype), np.empty(300))
    else:
        for i in range(x.shape[0]):
            narrow_row(x[i], narrow[i])
    assert wide.tobytes() == narrow.tobytes()


def test_bce_with_logits_row_same_bits():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(777) * 10).astype(np.float32)
    y = rng.random(777).astype(np.float32)
    g_wide, g_narrow = np.empty_like(x), np.empty_like(x)
    total = _kernels.bce_with_logits_row(x, y, g_wide, np.float32(0.5))
    narrow = _without_wide_vectors(_kernels.bce_with_logits_row)
    assert narrow(x, y, g_narrow, np.float32(0.5)) == total
    assert g_wide.tobytes() == g_narrow.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_sums_same_bits(dtype):
    """Batch norm's column sums (float64, down the rows of each column)."""
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((257, 203)) * 3 + 1).astype(dtype)
    g = rng.standard_normal((257, 203)).astype(dtype)
    mean = x.mean(axis=0, dtype=np.float64)
    for name, args in (("column_sums", (x,)), ("column_squares", (x, mean)),
                       ("gradient_sums", (g, x))):
        wide = [np.empty(203) for _ in range(2 if name == "gradient_sums" else 1)]
        narrow = [np.empty(203) for _ in wide]
        getattr(_kernels, name)(*args, *wide)
        _without_wide_vectors(getattr(_kernels, name))(*args, *narrow)
        for a, b in zip(wide, narrow):
            assert a.tobytes() == b.tobytes(), name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_few_rows_products_same_bits(dtype):
    """The loops of products of a few rows that sum in order (dL/dx = g W, dL/dW = gᵀ x);
    ``rows_times_transposed`` reassociates its dot products, as BLAS does (``test_few_rows``
    checks it against float64)."""
    rng = np.random.default_rng(13)
    g, w = rng.standard_normal((3, 257)).astype(dtype), rng.standard_normal((257, 203))
    x = rng.standard_normal((3, 203)).astype(dtype)
    w = w.astype(dtype)
    for name, args, shape in (("rows_times", (g, w), (3, 203)),
                              ("transposed_times", (g, x), (257, 203))):
        wide, narrow = np.empty(shape, dtype), np.empty(shape, dtype)
        getattr(few_rows, name)(*args, wide)
        _without_wide_vectors(getattr(few_rows, name))(*args, narrow)
        assert wide.tobytes() == narrow.tobytes(), name


def test_few_rows_forward_same_through_a_compiled_caller():
    """The forward of few rows reassociates its dot products into lanes: called from the
    fused step's compiled code (a caller without the attribute), it must still be the eager
    call's, bit for bit (numba links the callee as compiled, vectorised on its own)."""
    from ffnn.compiler import _fused_kernel
    from ffnn.kernels.native import NO_TRANS, TRANS

    rng = np.random.default_rng(17)
    for m, k, n in ((3, 777, 100), (10, 500, 60), (4, 1001, 257)):
        a = rng.standard_normal((m, k)).astype(np.float32)
        bt = rng.standard_normal((n, k)).astype(np.float32)
        eager, compiled = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
        few_rows.rows_times_transposed(a, bt, eager)
        assert _fused_kernel._few_rows(NO_TRANS, TRANS, a, bt, compiled, k)
        assert eager.tobytes() == compiled.tobytes()


def test_generated_loops_carry_the_attribute():
    """The attribute reaches LLVM: in the generated loop's IR, and not in one compiled
    without the call (LLVM applies it where the CPU has 512-bit registers). Compiled
    without numba's disk cache, whose code has no IR to show."""
    kernel = activations.TANH.forward_kernel
    source = kernel.source({}, True).replace("cache=True", "cache=False")
    x = np.ones(8, np.float32)
    for label, text, expected in (("uncached", source, True),
                                  ("uncached_narrow", source.replace(WIDE_CALL, ""), False)):
        loop = elementwise._load(f"{kernel.name}_{label}", text)
        loop(x.size, x, np.empty_like(x))
        assert (PREFER_512 in loop.inspect_llvm(loop.signatures[0])) is expected
