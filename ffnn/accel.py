"""Optional compiled kernels (numba): the passes that dominate a step, each fused into one
vectorised loop. Element-wise ones (activations, optimizer updates) are generated from their
formulas by ``ffnn.kernels``; the row-wise cross-entropy, bias addition and layer norm and
the collective ``add_scale`` are written out in ``ffnn._kernels``. The pure-NumPy code in
``ffnn.ops`` and ``ffnn.optim`` stays the reference and the fallback; these kernels compute
the same formulas.

Why: NumPy runs one pass per ufunc. Adam is a dozen passes over seven arrays (0.6 ms for the
535k parameters of the 784-512-256-10 MLP, 12 ms for 8.4M); fused, 0.2 ms and 4 ms. The
loops are single-threaded on purpose: between two matrix products OpenBLAS's threads are
still spinning, and a threaded kernel fighting them made whole steps 2–4× slower here; a
large call (``SPLIT_MIN``) hands a part to OpenBLAS's own spinning worker instead
(``ffnn.kernels.blas_split``). Numbers: ``docs/benchmarks.md``.

Used when numba imports and the environment does not set ``FFNN_ACCEL=0``; ``enabled`` can
also be switched at run time (the tests run both paths). Kernels compile on first use per
dtype and are cached on disk; numba itself is imported only then.
"""

from __future__ import annotations

import functools
import importlib.util
import os

import numpy as np

available = importlib.util.find_spec("numba") is not None
enabled = available and os.environ.get("FFNN_ACCEL", "1") != "0"


_loaded: list = []


def _kernels():
    """The compiled kernels (``ffnn._kernels``), importing numba on first use."""
    if not _loaded:
        from ffnn import _kernels

        _loaded.append(_kernels)
    return _loaded[0]


MIN_SIZE = 1 << 12
"""Below this many elements NumPy's few passes are as quick as a kernel call."""
SPLIT_MIN = 1 << 16
"""From this many elements a kernel call made from compiled code (an optimizer group's
update, the fused step's activations and updates) is split over OpenBLAS's threads
(``ffnn.kernels.blas_split``): the fused sweep step (256 rows of 512) 5.94 → 5.53 ms
splitting its 131,072-element arrays, 5.66 → 5.72 ms not."""
COSTLY_SPLIT_MIN = 1 << 14
"""From this many elements a compiled chain's activation (forward or backward) whose formula
has an exp, tanh, log1p or Φ (~1 ns an element) is split too (``SPLIT_MIN`` for the
others): 3-64-64-64-64-64-1 tanh b256 Adam, five tanh of 16,384 elements a forward, 0.65-0.68
→ 0.57 ms a step; at 8,192 elements the split lost (784-256-10 tanh b32 SGD 0.48 → 0.50),
and so did ReLU's at 16,384 (784-128-10 b64 momentum 0.39 → 0.41)."""
EXP_ROWS_SPLIT_MIN = 3 << 14
"""From this many elements a softmax, log softmax or cross-entropy forward called from
Python runs by parts of rows over OpenBLAS's threads (an exp an element, ~2 ns). Float32,
whole → split (µs): cross-entropy [512, 100] 96-103 → 68-69, [256, 128] 46-50 → 43-54,
[128, 200] 31-33 → 37; log softmax [512, 100] 114 → 70-73, [1024, 48] 120 → 71-77."""
PYTHON_SPLIT_MIN = 1 << 18
"""The same for a call made from Python (an activation's forward or backward), which adds
~15 µs of its own; below it, moving half the data to the other core's cache costs what the
split saves: right after a product, ReLU forward + backward on 131,072 float32 took 183 µs
whole and 249 µs split, on 262,144 466 and 459 µs, on 524,288 879 and 759 µs."""


def usable(*arrays, min_size: int | None = None) -> bool:
    """True when the kernels should take these arrays: enabled, at least ``min_size``
    (default ``MIN_SIZE``) elements, and ``compatible``."""
    if not enabled or arrays[0].size < (MIN_SIZE if min_size is None else min_size):
        return False
    return compatible(*arrays)


def dense(grad, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """``grad`` as a C-contiguous NumPy array of ``shape`` and ``dtype``, for a kernel: itself
    when it is one already (the usual case, checked in a few attribute reads), else a copy
    of it broadcast to ``shape`` (a 0-d seed, a broadcast view)."""
    if type(grad) is np.ndarray and grad.shape == shape and grad.dtype == dtype and \
            grad.flags.c_contiguous:
        return grad
    return np.ascontiguousarray(np.broadcast_to(grad, shape), dtype=dtype)


def compatible(*arrays) -> bool:
    """True when a kernel can take these arrays: NumPy, C-contiguous, one float dtype
    (float32 or float64). Says nothing of whether numba is installed or enabled."""
    dtype = arrays[0].dtype
    if dtype.char not in "fd":  # float32, float64
        return False
    for a in arrays:  # a plain loop: this runs several times per training step
        if type(a) is not np.ndarray or a.dtype != dtype or not a.flags.c_contiguous:
            return False
    return True


def warm_up() -> None:
    """Compile (or load from the disk cache) the kernels a training step uses, for float32
    and float64, now rather than on the first step that needs them."""
    if not enabled:
        return
    import ffnn
    from ffnn import nn, optim

    for dtype in (np.float32, np.float64):
        for act in (nn.ReLU(), nn.LeakyReLU(), nn.Sigmoid(), nn.Tanh(), nn.SiLU(), nn.GELU(),
                    nn.GELU("tanh")):
            x = ffnn.tensor(np.zeros((MIN_SIZE,), dtype), requires_grad=True)
            act(x).sum().backward()
        for make in (optim.Adam, optim.AdamW, optim.SGD,
                     lambda p: optim.SGD(p, lr=0.1, momentum=0.9)):
            param = nn.Parameter(np.zeros(MIN_SIZE, dtype))
            param.grad = np.zeros(MIN_SIZE, dtype)
            make([param]).step()
        a = np.zeros(4, dtype)
        add_scale(a, a, a.copy(), 0.5)
        labels = np.zeros(2, np.int64)
        cross_entropy_backward(cross_entropy_forward(a.reshape(2, 2), labels)[1], labels, 1.0)


def _flat(array: np.ndarray) -> np.ndarray:
    """The 1-D view of a C-contiguous array (itself when already 1-D)."""
    return array if array.ndim == 1 else array.reshape(-1)


def add_scale(a: np.ndarray, b: np.ndarray, out: np.ndarray, scale: float) -> None:
    """out ← (a + b) · scale in one pass (two ranks' gradients averaged, scale ½); ``out``
    may be ``a``. Alone NumPy's two passes are as fast; between two ranks sharing the memory
    bus, one pass saves ~0.5 ms on 4M values."""
    _kernels().add_scale(_flat(a), _flat(b), _flat(out), out.dtype.type(scale))


def add_bias(y: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """y ← y + bias for y [n, k] and bias [k], in place; returns y. The same additions as
    NumPy's broadcast ``y += bias``, in one compiled pass: 2-3x faster on a layer's output
    ([200, 100] float32: 2.7 µs against 7.9 µs). NumPy's where the kernel cannot take them."""
    if enabled and y.ndim == 2 and bias.ndim == 1 and compatible(y, bias):
        _kernels().add_rows(y, bias)
    else:
        y += bias
    return y


def bias_first_forward(x: np.ndarray, weight: np.ndarray,
                       bias: np.ndarray) -> np.ndarray | None:
    """x Wᵀ + b [n, out] for x [n, in], W [out, in], b [out] (NumPy float arrays of one dtype,
    C-contiguous), as torch's ``addmm`` and the compiled chains compute it: the output filled
    with b's rows (by parts of rows on OpenBLAS's threads), then BLAS adding the product to it
    (β = 1), where the output has ``SPLIT_MIN`` elements or more and BLAS computes the product
    as it is (``ffnn.compiler._fused_kernel.bias_then_product``); else None. The one-thread
    pass adding b goes: [8192, 64] · [64, 1024] float32 5.9-6.6 -> 5.6-6.1 ms."""
    n, out_features = x.shape[0], weight.shape[0]
    if not (enabled and n * out_features >= SPLIT_MIN and x.shape[1] > 1
            and bias.shape == (out_features,) and weight.ndim == 2
            and x.dtype == weight.dtype == bias.dtype and x.dtype.char in "fd"
            and all(type(a) is np.ndarray and a.flags.c_contiguous for a in (x, weight, bias))):
        return None
    from ffnn.compiler import _fused_kernel
    from ffnn.kernels import blas_split, native

    out = np.empty((n, out_features), x.dtype)
    if not _fused_kernel.bias_then_product(
            native.blas_functions(x.dtype), blas_split.split_row(out.size, out.itemsize), x,
            weight, bias, out):
        return None
    return out


def outer_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a · b for a [m, 1] and b [1, n] (a matrix product of inner size one), each element one
    product as NumPy's broadcast ``a * b`` gives it, in one compiled pass (``outer_rows``, by
    parts of rows on OpenBLAS's threads from ``SPLIT_MIN`` elements): on a tall, narrow
    result ([100000, 8] float32) 0.2 ms where the broadcast takes 1.2 ms."""
    if enabled and a.shape[0] * b.shape[1] >= MIN_SIZE and compatible(a, b):
        from ffnn.kernels import outer_rows

        out = np.empty((a.shape[0], b.shape[1]), a.dtype)
        a, b = a.reshape(-1), b.reshape(-1)
        if out.size < SPLIT_MIN or not _split_rows(
                outer_rows, "part", [a, b, out],
                [a.itemsize, 0, b.size * b.itemsize], [b.size]):
            outer_rows.outer(a, b, out)
        return out
    return a * b


FEW_ROWS = 4
"""A product of 2 to this many rows (or summed over so many) runs by
``ffnn.kernels.few_rows``'s loops (``few_rows_product``)."""
NARROW_ROWS, NARROW_WEIGHT = 12, 1 << 17
"""A forward x Wᵀ of up to ``NARROW_ROWS`` rows with a weight of at most ``NARROW_WEIGHT``
elements runs by them too (``ffnn.kernels.few_rows.narrow``)."""


def few_rows_product(a: np.ndarray, b: np.ndarray,
                     transposed: bool | None = None) -> np.ndarray | None:
    """a · b by ``ffnn.kernels.few_rows``'s loops, which read the larger operand once where
    OpenBLAS's GEMM packs it (3-5x as long), for a C-contiguous a [m, k]: a forward x Wᵀ
    (b = Wᵀ, W C-contiguous) of 2 to ``FEW_ROWS`` rows, or of up to ``NARROW_ROWS`` rows
    with a weight of at most ``NARROW_WEIGHT`` elements; a · b of 2 to ``FEW_ROWS`` rows (b
    C-contiguous); or summed over 2 to ``FEW_ROWS`` rows (aᵀ and b C-contiguous). None for
    other shapes or layouts, or with the kernels off. ``transposed``: whether b is Wᵀ (a
    Linear's forward says so; None: b is where it is Wᵀ of a C-contiguous W and not
    C-contiguous itself), so that a weight of one row or column takes the loop that the
    compiled chains take for the same product."""
    m, k = a.shape
    few_m, few_k = 2 <= m <= FEW_ROWS, 2 <= k <= FEW_ROWS
    narrow = 2 <= m <= NARROW_ROWS and b.size <= NARROW_WEIGHT
    if not (enabled and (few_m or few_k or narrow)) or type(a) is not np.ndarray or \
            type(b) is not np.ndarray or a.dtype.char not in "fd" or b.dtype != a.dtype:
        return None
    from ffnn.kernels import few_rows

    if transposed is None:
        transposed = b.T.flags.c_contiguous and not b.flags.c_contiguous
    out = np.empty((m, b.shape[1]), a.dtype)
    rows = a.flags.c_contiguous
    if transposed and (few_m or narrow) and rows and b.T.flags.c_contiguous:
        few_rows.rows_times_transposed(a, b.T, out)
        return out
    if few_m and rows and b.flags.c_contiguous:  # a · b, or x Wᵀ of an F-contiguous W
        few_rows.rows_times(a, b, out)
        return out
    if few_k and a.T.flags.c_contiguous and b.flags.c_contiguous:
        few_rows.transposed_times(a.T, b, out)
        return out
    return None


def product_over_rows(g: np.ndarray, x: np.ndarray) -> np.ndarray | None:
    """gᵀ x for g [n, out], x [n, in] by parts of rows on OpenBLAS's threads
    (``ffnn.kernels.row_parts``), or None where it does not run (disabled, not
    ``compatible``, no splitter)."""
    if not (enabled and compatible(g, x)):
        return None
    from ffnn.kernels import row_parts

    return row_parts.product_over_rows(g, x)


def keep_mask(key: int, threshold: int, out: np.ndarray) -> np.ndarray:
    """``out`` [n] (bool) ← dropout's keep mask from SplitMix64 keyed by ``key``
    (``ffnn.ops.dropout.keep_mask``'s bits: 32-bit halves at least ``threshold``), in one
    compiled pass (large masks split over OpenBLAS's threads); returns out."""
    kernels, key, threshold = _kernels(), np.uint64(key), np.uint64(threshold)
    pairs = out.size // 2
    if pairs >= SPLIT_MIN:
        from ffnn.kernels import blas_split

        if blas_split.run_arrays(kernels.keep_mask_part.address,
                                 [out, out, np.array([key, threshold])], np.zeros(1),
                                 n=pairs, strides=[0, 2, 0], minimum=SPLIT_MIN):
            kernels.keep_mask(key, threshold, out[2 * pairs:], np.uint64(pairs))  # odd end
            return out
    kernels.keep_mask(key, threshold, out, np.uint64(0))
    return out


def affine(weight: np.ndarray | None, bias: np.ndarray | None, n: int,
            dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """(γ, β) for a norm kernel: the layer's own, or ones and zeros [n] where it has none
    (read-only, one pair per width and dtype)."""
    if weight is None or bias is None:
        ones, zeros = _unit_affine(n, np.dtype(dtype).char)
        return (ones if weight is None else weight), (zeros if bias is None else bias)
    return weight, bias


@functools.lru_cache(maxsize=64)
def _unit_affine(n: int, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    ones, zeros = np.ones(n, dtype), np.zeros(n, dtype)
    ones.flags.writeable = zeros.flags.writeable = False
    return ones, zeros


LAYER_NORM_SPLIT_MIN = SPLIT_MIN
"""Elements from which layer norm's forward splits its rows with OpenBLAS's worker."""


def layer_norm_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                       eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, x̂, 1/σ) of layer norm over the last axis of x [rows, n], one compiled pass per
    row with float64 statistics (``ffnn.ops.norms.LayerNorm``'s formula); 1/σ [rows] is
    float64. ``weight`` / ``bias`` [n] or None."""
    y, x_hat = np.empty_like(x), np.empty_like(x)
    rows, cols = x.shape
    rstd = np.empty(rows)
    weight, bias = affine(weight, bias, cols, x.dtype)
    kernels = _kernels()
    if x.size >= LAYER_NORM_SPLIT_MIN and _split_rows(  # γ, β whole in every part
            kernels, "layer_norm_part", [x, y, x_hat, rstd, weight, bias],
            [cols * x.itemsize] * 3 + [8, 0, 0], [cols, eps]):
        return y, x_hat, rstd
    kernels.layer_norm_forward(x, weight, bias, float(eps), y, x_hat, rstd)
    return y, x_hat, rstd


def _split_rows(module, name: str, arrays: list, strides: list[int], scalars: list) -> bool:
    """The rows of ``arrays`` (``strides``: bytes a row in each) in parts with OpenBLAS's
    worker (``ffnn.kernels.blas_split``), each through ``module``'s C entry point ``name``
    for the first array's dtype (``ffnn.kernels.first_use.entry_point``); False, running
    nothing, when it should run whole."""
    from ffnn.kernels import blas_split
    from ffnn.kernels.first_use import entry_point

    return blas_split.run_arrays(entry_point(module, name, arrays[0].dtype), arrays,
                                 np.array(scalars, float),
                                 n=arrays[0].shape[0], strides=strides, minimum=2)


def layer_norm_backward(grad: np.ndarray, x_hat: np.ndarray, rstd: np.ndarray,
                        weight: np.ndarray | None, need_x: bool
                        ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(dL/dx or None, Σ_rows g x̂, Σ_rows g) from g = dL/dy [rows, n] and the forward's x̂,
    1/σ (``layer_norm_forward``); the sums in x̂'s dtype, accumulated in float64."""
    return _norm_backward(_by_parts("layer_norm_backward", x_hat), grad, x_hat, rstd, weight,
                          need_x)


def _norm_backward(kernel, grad, x_hat, rstd, weight, need_x: bool) -> tuple:
    """Run a norm's backward ``kernel`` (its arguments: g, x̂, 1/σ, γ, need_x, grad_x and
    the float64 sums Σ g x̂, Σ g it fills) and return its three results."""
    n = x_hat.shape[1]
    grad_x = np.empty_like(x_hat) if need_x else x_hat[:1]
    sum_gx, sum_g = np.empty(n), np.empty(n)
    weight = affine(weight, None, n, x_hat.dtype)[0]
    kernel(grad, x_hat, rstd, weight, need_x, grad_x, sum_gx, sum_g)
    dtype = x_hat.dtype
    return (grad_x if need_x else None), sum_gx.astype(dtype), sum_g.astype(dtype)


def update_running(statistic: np.ndarray, batch: np.ndarray, keep, factor: float) -> None:
    """statistic ← statistic · keep + factor · batch in place (a batch norm's running mean or
    variance; ``keep`` = 1 - momentum in the statistic's dtype, ``batch`` float64), rounded as
    NumPy's ``statistic *= keep; statistic += factor * batch``."""
    _kernels().update_running(_flat(statistic), _flat(batch), keep, float(factor))


def update_running_pair(mean: np.ndarray, batch_mean: np.ndarray, var: np.ndarray,
                        batch_var: np.ndarray, keep, mean_factor: float,
                        var_factor: float) -> None:
    """``update_running`` of a running mean and variance (one dtype) in one compiled call."""
    _kernels().update_running_pair(_flat(mean), _flat(batch_mean), _flat(var), _flat(batch_var),
                                   keep, float(mean_factor), float(var_factor))


def batch_norm_forward(x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None,
                       eps: float) -> tuple[np.ndarray, ...]:
    """(y, x̂, μ, σ², 1/σ) of batch norm over the rows of x [rows, n] (per column), with
    float64 statistics (``ffnn.ops.norms.BatchNorm``'s formula); μ, σ² (biased) and 1/σ
    [n] are float64. ``weight`` / ``bias`` [n] or None."""
    n = x.shape[1]
    y, x_hat = np.empty_like(x), np.empty_like(x)
    mean, var, rstd = np.empty(n), np.empty(n), np.empty(n)
    weight, bias = affine(weight, bias, n, x.dtype)
    parts = _norm_parts(x)
    if parts is None or not parts[0].batch_norm_forward(x, weight, bias, float(eps), y, x_hat,
                                                        mean, var, rstd, *parts[1:]):
        _kernels().batch_norm_forward(x, weight, bias, float(eps), y, x_hat, mean, var, rstd)
    return y, x_hat, mean, var, rstd


MKL_MIN_PRODUCT = 1 << 18
"""Multiply-adds from which Intel MKL, where it is used, computes a product
(``ffnn.kernels.mkl_products``; below, OpenBLAS's or the loops of few rows). Here so that the
eager product asks nothing more of a smaller one: an eager call to MKL adds ~5 µs of Python
and dispatch, what a product of 2¹⁷ multiply-adds takes ([2, 256] · [256, 256]: ~10 µs by
MKL or the loops, 7 by OpenBLAS)."""
NORM_PARTS_MIN = SPLIT_MIN
"""Elements from which batch norm, and layer norm's backward, run by parts of rows
(``ffnn.kernels.norm_parts``)."""


def _norm_parts(x: np.ndarray) -> tuple | None:
    """(``ffnn.kernels.norm_parts``, a split row, its part's entry point for x's dtype)
    where a norm on x [rows, n] should run by parts of rows, else None (small, fewer rows
    than 4·threads², no splitter or one thread)."""
    if x.size < NORM_PARTS_MIN:
        return None
    from ffnn.kernels import blas_split, norm_parts

    found = blas_split.splitter()
    split = found.row(0) if found is not None else None
    if split is None or split[2] < 2 or x.shape[0] < 4 * split[2] * split[2]:
        return None
    part = norm_parts.part_f64 if x.dtype.char == "d" else norm_parts.part_f32
    return norm_parts, split, part.address


def batch_norm_backward(grad: np.ndarray, x_hat: np.ndarray, rstd: np.ndarray,
                        weight: np.ndarray | None, need_x: bool
                        ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(dL/dx or None, Σ_rows g x̂, Σ_rows g) from g = dL/dy [rows, n] and the forward's x̂,
    1/σ (``batch_norm_forward``); the sums in x̂'s dtype, accumulated in float64."""
    return _norm_backward(_by_parts("batch_norm_backward", x_hat), grad, x_hat, rstd, weight,
                          need_x)


def _by_parts(name: str, x_hat: np.ndarray):
    """The backward kernel ``name`` of ``ffnn._kernels`` for x̂'s rows: by parts of rows
    (``ffnn.kernels.norm_parts``) where ``_norm_parts`` says so, whole where those parts
    were not as expected or it does not."""
    whole = getattr(_kernels(), name)
    parts = _norm_parts(x_hat)
    if parts is None:
        return whole
    split_kernel = getattr(parts[0], name)

    def by_parts(*arguments):
        if not split_kernel(*arguments, *parts[1:]):
            whole(*arguments)

    return by_parts


def cross_entropy_forward(x: np.ndarray, target: np.ndarray, ignore_index: int = -100
                          ) -> tuple[float, np.ndarray] | None:
    """(Σᵢ -log softmax(xᵢ)[yᵢ], softmax(x)) for logits [n, c] and int64 class indices, in
    one pass over each row (a row's max is subtracted before exp, as the NumPy path); None
    when a class index is ``ignore_index`` or outside [0, c)."""
    kernels = _kernels()
    prob = np.empty_like(x)
    n, c = x.shape
    if x.size >= EXP_ROWS_SPLIT_MIN:  # its exps by parts of rows (a row's values as whole)
        if not kernels.class_indices_ok(target, c, ignore_index):
            return None
        tops, log_sums = np.empty(n, x.dtype), np.empty(n)
        row = c * x.itemsize
        if _cross_entropy_parts([x, prob, tops, log_sums], [row, row, x.itemsize, 8],
                                kernels.CROSS_ENTROPY_SOFTMAX, 0.0):
            return kernels.cross_entropy_total(x, target, tops, log_sums), prob
    total, ok = kernels.cross_entropy_forward(x, target, ignore_index, prob)
    return (total, prob) if ok else None


def _cross_entropy_parts(arrays: list, strides: list[int], kind: int, scale: float) -> bool:
    """``_split_rows`` for cross-entropy's pass ``kind`` (``ffnn._kernels._cross_entropy_part``)
    on rows of ``arrays``; only the entry point of their dtype compiles."""
    return _split_rows(_kernels(), "cross_entropy_part", arrays, strides,
                       [arrays[0].shape[1], kind, scale])


def squared_difference(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """(x - y, Σ (x - y)²) for x, y of one shape and dtype (``compatible``), in one pass: the
    differences as NumPy's, the sum accumulated in float64 (MSE's forward: three passes and
    two temporaries in NumPy, ~0.4 ms on [8192, 64] float32 against ~0.1 ms)."""
    kernels, diff = _kernels(), np.empty_like(x)
    flat = [_flat(x), _flat(y), _flat(diff)]
    if x.size >= PYTHON_SPLIT_MIN:  # by parts of its blocks' sums: the whole call's total
        block = kernels.SUM_BLOCK
        sums = np.empty((x.size + block - 1) // block)
        from ffnn.kernels import blas_split
        from ffnn.kernels.first_use import entry_point

        scalars = np.array([x.size, sums.ctypes.data, kernels.SQUARED_DIFFERENCES, 0.0],
                           float)  # an address < 2⁵³: exact
        part = entry_point(kernels, "squared_blocks_part", x.dtype)
        if blas_split.run_arrays(part, [*flat, sums], scalars, n=sums.size,
                                 strides=[block * x.itemsize] * 3 + [8], minimum=2):
            return diff, kernels.sum_in_order(sums)
    return diff, kernels.squared_difference(*flat)


def log_softmax_rows(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out ← log softmax of each row of x [n, c] (float32/float64, C-contiguous), one pass
    a row as ``cross_entropy_forward``'s; returns out."""
    return _kernels().log_softmax_rows(x, out, out)


def on_last_axis(x, dim: int) -> bool:
    """True when the row kernels below should take a softmax of ``x`` along ``dim``: enabled,
    ``dim`` is the last axis of a non-empty array with at least one axis, ``compatible``."""
    return enabled and x.ndim > 0 and x.size > 0 and dim in (-1, x.ndim - 1) and \
        compatible(x)


def _rows(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, x.shape[-1])


def _softmax_rows(code: int, a: np.ndarray, b: np.ndarray, c: np.ndarray,
                  split_min: int) -> None:
    """Run the softmax row kernel ``code`` (``ffnn._kernels.SOFTMAX``, …) on the rows of
    a, b, c [rows, cols]; from ``split_min`` elements the rows are split with OpenBLAS's
    worker (``ffnn.kernels.blas_split``), each part the same loop on its rows."""
    kernels = _kernels()
    if a.size < split_min or not _split_softmax(kernels, code, a, b, c):
        kernels.run_softmax_rows(code, a, b, c)


def _split_softmax(kernels, code: int, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> bool:
    """``_split_rows`` for a softmax row kernel: only the entry point of a's dtype is asked
    for, so only it compiles (``ffnn._kernels._ON_FIRST_USE``)."""
    return _split_rows(kernels, "softmax_part", [a, b, c], [a.shape[1] * a.itemsize] * 3,
                       [a.shape[1], code])


def softmax_last(x: np.ndarray) -> np.ndarray:
    """Softmax along the last axis (``on_last_axis``), one pass a row as
    ``cross_entropy_forward``'s (its exp: from ``EXP_ROWS_SPLIT_MIN`` elements split)."""
    out = np.empty_like(x)
    _softmax_rows(_kernels().SOFTMAX, _rows(x), _rows(out), _rows(out), EXP_ROWS_SPLIT_MIN)
    return out


def log_softmax_last(x: np.ndarray, keep: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(log softmax along the last axis (``on_last_axis``), and the softmax if ``keep``:
    written by the same pass, it spares the backward an exp per element)."""
    out = np.empty_like(x)
    prob = np.empty_like(x) if keep else out
    _softmax_rows(_kernels().LOG_SOFTMAX, _rows(x), _rows(out), _rows(prob),
                  EXP_ROWS_SPLIT_MIN)
    return out, prob if keep else None


def softmax_backward_last(y: np.ndarray, grad) -> np.ndarray:
    """dL/dx = y ⊙ (g - Σ g ⊙ y) along the last axis, from y = softmax(x)."""
    out = np.empty_like(y)
    _softmax_rows(_kernels().SOFTMAX_BACKWARD, _rows(y), _rows(dense(grad, y.shape, y.dtype)),
                  _rows(out), PYTHON_SPLIT_MIN)
    return out


def log_softmax_backward_last(prob: np.ndarray, grad) -> np.ndarray:
    """dL/dx = g - p Σ g along the last axis, from p = softmax(x) (``log_softmax_last``'s)."""
    out = np.empty_like(prob)
    _softmax_rows(_kernels().LOG_SOFTMAX_BACKWARD, _rows(prob),
                  _rows(dense(grad, prob.shape, prob.dtype)), _rows(out), PYTHON_SPLIT_MIN)
    return out


def cross_entropy_backward(prob: np.ndarray, target: np.ndarray, scale: float) -> np.ndarray:
    """dL/dx = scale · (softmax(x) - one_hot(y)) from the saved probabilities."""
    kernels = _kernels()
    out = np.empty_like(prob)
    row, target = prob.shape[1] * prob.itemsize, np.ascontiguousarray(target)
    if prob.size < PYTHON_SPLIT_MIN or not _cross_entropy_parts(
            [prob, out, prob, prob, target], [row, row, 0, 0, 8],
            kernels.CROSS_ENTROPY_GRADIENT, scale):
        kernels.cross_entropy_backward(prob, target, prob.dtype.type(scale), out)
    return out


def cumulative_sum(x, axis: int, reverse: bool) -> np.ndarray | None:
    """``np.cumsum(x, axis)`` (``reverse``: summed from the end, as ``flip(cumsum(flip))``)
    by the compiled loop, the same additions in the same order; None where it does not
    apply (disabled, fewer than ``MIN_SIZE`` elements, not float32/float64 NumPy)."""
    if not enabled or type(x) is not np.ndarray or x.dtype.char not in "fd" or \
            x.size < MIN_SIZE:
        return None
    x = np.ascontiguousarray(x)
    shape = (int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:])))
    out = np.empty_like(x)
    _kernels().cumulative_sum(x.reshape(shape), out.reshape(shape), reverse)
    return out


def arg_extremum(x, axis: int, largest: bool) -> np.ndarray | None:
    """``np.argmax(x, axis, keepdims=True)`` (``np.argmin`` unless ``largest``) as int64 by
    the compiled pass down an axis other than the last (NumPy's own is quick along the last
    one); None where it does not apply (disabled, fewer than ``MIN_SIZE`` elements, an empty
    axis, not a NumPy float or integer array)."""
    if not enabled or type(x) is not np.ndarray or \
            not (x.dtype.char in "fd" or x.dtype.kind in "iu") or \
            x.size < MIN_SIZE or axis == x.ndim - 1 or x.shape[axis] == 0:
        return None
    x = np.ascontiguousarray(x)
    shape = (int(np.prod(x.shape[:axis])), x.shape[axis], int(np.prod(x.shape[axis + 1:])))
    out = np.empty((shape[0], shape[2]), np.int64)
    _kernels().arg_extremum_columns(x.reshape(shape), largest, out)
    return out.reshape(x.shape[:axis] + (1,) + x.shape[axis + 1:])
