"""The numba function behind ``mode="fused"``: forward, loss, backward and the optimizer
update of a Linear/norm/activation chain in one call (imported only when a fused step is
built).

The arrays reach it as a table of addresses (one int64 array) rather than as tuples of
arrays: numba unboxes every array argument at every call, which for a small network costs
more than the step's arithmetic. Each activation is its ``Pointwise`` formula's generated
forward and backward loops, called through their C entry points (addresses in the table,
``ElementwiseKernel.entry``), so every activation with a formula is fused by the same code.

Products of at least ``BLAS_MIN_PRODUCT`` multiply-adds call NumPy's own BLAS (``gemm``,
its address an argument: ``ffnn.kernels.native``), with the layouts ``ffnn.ops.matrix``
uses, so they are bit for bit ``numpy.matmul``'s (a forward with a bias: the bias first,
BLAS adding the product to it, as torch's ``addmm``). Smaller ones are loops ordered so that
the innermost one runs over contiguous memory and vectorises without reassociating sums:
each output element is summed over k in order.
"""

import math

import numba
import numpy as np

import ffnn.kernels.bitcast  # noqa: F401 - registers double_from_bits's compiled form
from ffnn import _kernels as eager_kernels
from ffnn.accel import COSTLY_SPLIT_MIN, NORM_PARTS_MIN, SPLIT_MIN
from ffnn.kernels import (
    bias_rows,
    blas_split,
    few_rows,
    mkl_products,
    native,
    norm_parts,
    numba_cache,
    outer_rows,
    row_parts,
    transpose,
)
from ffnn.kernels.native import (
    BIAS_ROWS_PART,
    CROSS_ENTROPY_PART,
    GEMM,
    GEMV,
    GET_THREADS,
    LAYER_NORM_PART,
    MKL,
    NORM_PART,
    OUTER_ROWS_PART,
    ROWS_PART,
    SET_THREADS,
    SQUARED_ERROR_PART,
    TRANSPOSED_FORWARD,
    address_as_pointer,
    call_entry,
    call_gemm,
    call_gemv,
    get_threads,
    set_threads,
)
from ffnn.ops.losses import BCE_EPSILON
from ffnn.ops.matrix import (
    narrow_reduction,
    one_thread_product,
    sums_by_rows,
    transposed_forward,
)
from ffnn.ops.special_float64 import double_from_bits
from ffnn.optim.adam import adam_step_coefficients

numba_cache.install()  # before the decorators: stamps the cache by every kernel source

_jit = numba.njit(error_model="numpy", cache=True)
"""``step`` and each of its parts, compiled once (per signature) and linked in; LLVM inlines
a part where it pays. (numba's own inlining, ``inline="always"``, gave the same speed and
doubled ``step``'s compile time: 65 s -> 30 s for one dtype.)"""

NO_TRANS, TRANS = np.int64(native.NO_TRANS), np.int64(native.TRANS)
OVERWRITE, ACCUMULATE = np.int64(0), np.int64(1)  # β: c = op(a) op(b), or + c
ANY_THREADS = np.False_  # ``single`` false: on as many BLAS threads as the product takes
"""The products' flags as NumPy scalars, which numba types as int64 and bool where it types
a Python int or bool as a literal and compiles a part once for each value: one copy of each
part serves every orientation (step's compile, float32: 33-36 s -> 28-34 s)."""
BIAS_BLAS_WIDTH, BIAS_BLAS_MIN, BIAS_BLAS_WIDE_MIN = 32, 1 << 16, 1 << 17
"""A bias gradient through BLAS for rows narrower than ``BIAS_BLAS_WIDTH``, of at least
``BIAS_BLAS_MIN`` elements, and for any rows from ``BIAS_BLAS_WIDE_MIN`` elements."""
MSE, CROSS_ENTROPY, BCE_WITH_LOGITS, BCE = 0, 1, 2, 3
ADAM_STEP_SIZE, ADAM_CORRECTION, ADAM_LR, ADAM_BETA1, ADAM_BETA2 = 6, 7, 9, 10, 11
"""Columns of an Adam row of ``hyper``: ``ADAM_KERNEL``'s scalars (step_size and
bias_correction2_sqrt at 6 and 7), then lr, β₁ and β₂."""
_step_coefficients = numba.njit(error_model="numpy", inline="always")(adam_step_coefficients)
_narrow_reduction = numba.njit(inline="always")(narrow_reduction)
_sums_by_rows = numba.njit(inline="always")(sums_by_rows)  # the eager ops' rules, compiled
_one_thread_product = numba.njit(inline="always")(one_thread_product)
_transposed_forward = numba.njit(inline="always")(transposed_forward)
LOOP_DOTS_INPUTS, LOOP_ROWS_OUTPUTS = 8, 16
"""A forward below BLAS's threshold is dot products (``_product_forward``) from this many
inputs, or onto fewer outputs: the loop along the outputs keeps each output in memory
across the inputs, so on a few outputs it ran at ~1 multiply-add a ns (float32, [64, 64] ·
[64, 2]: 9.5 µs as rows of Wᵀ, 0.5 as dot products; [100, 50] · [50, 1]: 10.6 and 0.5;
[32, 32] · [32, 10]: 4.1 and 0.7); on few inputs and many outputs it is the quicker
([64, 2] · [2, 64]: 0.7 against 2.7; [32, 6] · [6, 64]: 1.2 against 2.1)."""
BLAS_MIN_PRODUCT = 1 << 14
"""Multiply-adds (m·n·k) from which a product calls BLAS rather than the loops: below it,
the call and BLAS's packing cost about what the loops save. (A 64-32-32-10 float32 step on
32 rows: 80-100 µs with loops only, 62-76 µs with its two larger products through BLAS;
a 2-3-1 step stays in loops.) Products with an inner size of 1 (outer products) are loops
too, where BLAS is 3-4x slower (``ffnn.ops.matrix.product``)."""


@_jit
def _loss(out, y_float, y_index, code, mean, factor, g, blas,
          split):  # pragma: no cover - compiled
    """``factor`` times the loss of ``out`` [n, c] (float64), and its dL/dout into ``g``
    [n, c] (all three C-contiguous). Element-wise losses run over all n·c elements at once
    (a loop a row cost ~0.1 µs a row on [16384, 1]), cross-entropy over rows (by parts of
    them where ``split`` splits)."""
    n, c = out.shape
    count = n * c if code != CROSS_ENTROPY else n
    scale = out.dtype.type(factor / count if mean else factor)
    if code == CROSS_ENTROPY:
        total = _cross_entropy(out, y_index, scale, g, blas, split)
    elif code == MSE and out.size >= SPLIT_MIN and blas[SQUARED_ERROR_PART] != 0 and \
            split[0] != 0 and split[2] >= 2:
        total = _squared_error_by_parts(out.ravel(), y_float.ravel(), scale, g.ravel(), blas,
                                        split)
    else:
        total = _elementwise_loss(out.ravel(), y_float.ravel(), code, scale, g.ravel())
    return factor * (total / count if mean else total)


@_jit
def _squared_error_by_parts(out, y, scale, g, blas, split):  # pragma: no cover - compiled
    """MSE's Σ (out - y)² and g = 2 (out - y) · scale (flat) as ``squared_error_gradient``
    computes them, its blocks of ``SUM_BLOCK`` elements by parts over OpenBLAS's threads
    (as the eager op's forward, ``accel.squared_difference``, which splits only from
    ``PYTHON_SPLIT_MIN``: from Python a split costs ~15 µs, here ~1), the blocks' sums added
    in order: the whole call's values, bit for bit. From ``SPLIT_MIN`` elements (two
    blocks): [256, 256] float32 13 → 8 µs, [1024, 784] 296 → 161."""
    block = eager_kernels.SUM_BLOCK
    sums = np.empty((out.size + block - 1) // block)
    scalars = np.array([out.size, sums.ctypes.data, eager_kernels.SQUARED_ERROR_GRADIENT,
                        scale], np.float64)  # an address < 2⁵³: exact
    stride = block * out.itemsize
    row_parts.run_parts(split, blas[SQUARED_ERROR_PART], sums.size,
                        (out.ctypes.data, y.ctypes.data, g.ctypes.data, sums.ctypes.data, 0,
                         0), (stride, stride, stride, 8, 0, 0), scalars)
    return eager_kernels.sum_in_order(sums)


@_jit
def _elementwise_loss(out, y, code, scale, g):  # pragma: no cover - compiled
    """Σ of the loss ``code`` (MSE, BCE with logits, BCE) of ``out`` against ``y`` (flat),
    float64; g = its derivative times ``scale``."""
    total = 0.0
    if code == MSE:
        total = eager_kernels.squared_error_gradient(out, y, scale, g)
    elif code == BCE_WITH_LOGITS:  # the eager kernels' formulas
        total = eager_kernels.bce_with_logits_row(out, y, g, scale)
    else:  # probabilities (a sigmoid's): ``ops.losses.BCELoss``'s formulas
        for j in range(out.size):
            p, t = out[j], y[j]
            log_p = max(math.log(p) if p > 0 else -math.inf, -100.0)
            log_q = max(math.log1p(-p) if p < 1 else -math.inf, -100.0)
            total -= t * log_p + (1 - t) * log_q
            g[j] = (p - t) / max((1 - p) * p, BCE_EPSILON) * scale
    return total


@_jit
def _cross_entropy(out, y_index, scale, g, blas, split):  # pragma: no cover - compiled
    """Σᵢ -log softmax(outᵢ)[yᵢ] (float64), and g = (softmax - one_hot(y)) · scale: the
    eager op's softmax (``ffnn._kernels.softmax_parts``), then its backward's product; from
    ``COSTLY_SPLIT_MIN`` logits by parts of rows, both in one pass a part
    (``ffnn._kernels._cross_entropy_part``: a row's values as whole)."""
    n, c = out.shape
    tops, log_sums = np.empty(n, out.dtype), np.empty(n)
    count = split[2]
    if blas[CROSS_ENTROPY_PART] != 0 and split[0] != 0 and count >= 2 and n >= count and \
            out.size >= COSTLY_SPLIT_MIN:
        row = c * out.itemsize
        row_parts.run_parts(
            split, blas[CROSS_ENTROPY_PART], n,
            (out.ctypes.data, g.ctypes.data, tops.ctypes.data, log_sums.ctypes.data,
             y_index.ctypes.data, 0), (row, row, out.itemsize, 8, 8, 0),
            np.array([c, eager_kernels.CROSS_ENTROPY_BOTH, scale], np.float64))
    else:
        eager_kernels.softmax_parts(out, g, tops, log_sums)
        eager_kernels.cross_entropy_backward(g, y_index, scale, g)
    return eager_kernels.cross_entropy_total(out, y_index, tops, log_sums)


@_jit
def _matrix(table, k, rows, cols, like):  # pragma: no cover - compiled
    return numba.carray(address_as_pointer(table[k], like), (rows, cols))


@_jit
def _vector(table, k, size, like):  # pragma: no cover - compiled
    return numba.carray(address_as_pointer(table[k], like), size)


FIELDS = 48
"""Table entries per layer. Addresses: 0 weight, 1 bias, 2 and 3 their gradients (bias: 0
for a layer without), 4 the activation's output h [n, out], 5 the transposed weight
[in, out] (loops only), 6 the activation's input [n, out] (h itself without activation),
7-8 the values the activation keeps, 9 its scalars (float64); 10-11 its forward and
backward entry points (0: no activation); 12 the number of arrays its backward reads
besides dL/dh, 13-16 the field of each (``SAVED_FIELDS``); 17 the layer's output after
dropout (h itself without), 18 dropout's keep mask (bool; 0: no dropout this step), 19 its
scale 1/(1 - p) (float64 [1]), 20-21 the item sizes of the values the activation keeps
(0: none), 35 dropout's entry point (``ops.dropout.DROPOUT``). A norm between
the product and the activation: 22 its kind (``NO_NORM``, ``LAYER_NORM``, ``BATCH_NORM``),
23 the product's output z [n, out] (the activation's input itself without norm), 24-25 γ
and β [out] (ones and zeros where the layer has none), 26-27 their gradients (0: none),
28 x̂ [n, out], 29 1/σ (float64: [n] for layer norm, [out] for batch norm), 30-31 batch
norm's mean and variance (float64 [out]), 32-33 the float64 sums Σ g x̂ and Σ g [out], 34
the bits of ε (float64); a batch norm whose running statistics the step updates: 36-37
its running mean and variance [out] (0: none this step), 38 1 - momentum ([1], their
dtype), 39 the momentum and momentum·n/(n - 1) (float64 [2]), 40 its batch count
(``num_batches_tracked``, int64 [1]; 0: not counted here); 41-42 the elements from which
the activation's forward and backward split over OpenBLAS's threads
(``Pointwise.compiled_split_min``); a batch norm on its running statistics
(``RUNNING_BATCH_NORM``): 36-37 those statistics, 43-44 its per-feature scale a and
shift c [out] (the layer's dtype), 29 and 32-33 its backward's 1/σ and sums; 45-46 the
key and threshold of dropout's keep mask for this call (``ops.dropout.mask_key``), 47 the
entry point that draws it (``ffnn._kernels.keep_mask_part``; 0: the mask is there). After the
layers: the two flat gradient buffers."""
WEIGHT, BIAS, GRAD_WEIGHT, GRAD_BIAS, OUTPUT, TRANSPOSED, PRE = 0, 1, 2, 3, 4, 5, 6
KEPT, SCALARS, FORWARD, BACKWARD, SAVED_COUNT, SAVED = 7, 9, 10, 11, 12, 13
DROPPED, KEEP, DROP_SCALE, KEPT_SIZES = 17, 18, 19, 20
NORM, LINEAR_OUT, GAMMA, BETA, GRAD_GAMMA, GRAD_BETA, X_HAT, RSTD = 22, 23, 24, 25, 26, 27, 28, 29
MEAN, VAR, SUM_GX, SUM_G, EPS, DROP_ENTRY = 30, 31, 32, 33, 34, 35
RUNNING_MEAN, RUNNING_VAR, RUNNING_KEEP, RUNNING_FACTORS, BATCHES = 36, 37, 38, 39, 40
SPLIT_FORWARD, SPLIT_BACKWARD, RUNNING_SCALE, RUNNING_SHIFT = 41, 42, 43, 44
MASK_KEY, MASK_THRESHOLD, MASK_ENTRY = 45, 46, 47
NO_NORM, LAYER_NORM, BATCH_NORM, RUNNING_BATCH_NORM = 0, 1, 2, 3
SAVED_FIELDS = {"x": PRE, "y": OUTPUT}
"""The field of an array an activation's backward reads, by its name in the formula (the
values it keeps: ``KEPT`` + their position)."""
PARAMETER_FIELDS = 6
"""Columns of the parameter table, one row per parameter updated in the kernel: its
array, its gradient, its three state arrays (the parameter itself for an absent one), its
size."""


@_jit
def _gemm(blas, trans_a, trans_b, a, b, c, k, single):  # pragma: no cover - compiled
    """c [m, n] = op(a) · op(b) (op: transposed or not, inner size k): by ``_few_rows``'s loops
    for a few rows (not where MKL takes the product: ``_on_mkl``), else through BLAS
    (``blas``: ``ffnn.kernels.native.blas_functions``) where ``_on_blas`` says so
    (``_blas_product``); whether it ran."""
    if k > 1 and not _on_mkl(blas, trans_a, trans_b, c, k) and \
            _few_rows(trans_a, trans_b, a, b, c, k):
        return True
    if not _on_blas(blas, c, k):
        return False
    _blas_product(blas, trans_a, trans_b, a, b, c, k, single, OVERWRITE)
    return True


@_jit
def _on_blas(blas, c, k):  # pragma: no cover - compiled
    """Whether a product into c [m, n] of inner size k, past ``_few_rows``, goes to BLAS: when
    it is at hand and the product has at least ``BLAS_MIN_PRODUCT`` multiply-adds (inner size
    1, an outer product, stays a loop)."""
    m, n = c.shape
    return blas[GEMM] != 0 and k > 1 and m * n * k >= BLAS_MIN_PRODUCT


@_jit
def _on_mkl(blas, trans_a, trans_b, c, k):  # pragma: no cover - compiled
    """Whether MKL computes op(a) · op(b) into c [m, n] (``mkl_products.takes``, as the eager
    ``ffnn.ops.matrix.product`` asks before its loops of few rows: MKL's by parts is
    faster, [4, 784] · [784, 1024] 66 µs against the loops' 261)."""
    m, n = c.shape
    return blas[MKL] != 0 and mkl_products.compiled_takes(trans_a, trans_b, m, n, k,
                                                          c.itemsize)


@_jit
def _blas_product(blas, trans_a, trans_b, a, b, c, k, single,
                  beta):  # pragma: no cover - compiled
    """c = op(a) · op(b) + β c (β 0 or 1) through BLAS, as the eager product computes it: by
    MKL where it is used and takes the product (``ffnn.kernels.mkl_products``; on one thread
    where ``single`` says so); else as ``numpy.matmul`` calls OpenBLAS: gemv for one output
    column or row (``_gemv``), else gemm; on one BLAS thread where ``single`` says so or the
    eager product takes one (``ffnn.ops.matrix.one_thread_product``), the thread count
    restored after."""
    m, n = c.shape
    if _on_mkl(blas, trans_a, trans_b, c, k):
        mkl = blas[MKL:]
        count = 1 if single else mkl_products.parts(mkl, blas[GET_THREADS], m, n, k)
        mkl_products.product(mkl, count, trans_a, trans_b, m, n, k, c.dtype.type(1),
                             a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1],
                             c.dtype.type(beta), c.ctypes.data, n)
        return
    threads = 0
    if (single or _one_thread_product(m, k, n, c.itemsize)) and blas[SET_THREADS] != 0:
        threads = get_threads(blas[GET_THREADS])
        if threads > 1:
            set_threads(blas[SET_THREADS], 1)
    if (n == 1 or m == 1) and blas[GEMV] != 0:
        _gemv(blas, trans_a, trans_b, a, b, c, k, beta)
    else:
        call_gemm(blas[GEMM], trans_a, trans_b, m, n, k, c.dtype.type(1), a.ctypes.data,
                  a.shape[1], b.ctypes.data, b.shape[1], c.dtype.type(beta), c.ctypes.data, n)
    if threads > 1:
        set_threads(blas[SET_THREADS], threads)


@_jit
def _few_rows(trans_a, trans_b, a, b, c, k):  # pragma: no cover - compiled
    """``_gemm``'s product by ``ffnn.kernels.few_rows``'s loops where it has few rows (as
    ``ffnn.ops.matrix.product``'s): c of 2-4 rows (a [m, k]), a · bᵀ of up to 12 rows with
    a small b (``few_rows.narrow``), or a sum over 2-4 rows (a [k, m] transposed, b [k, n]);
    whether it ran."""
    if trans_a == NO_TRANS and trans_b == TRANS and few_rows.narrow(c.shape[0], b.size):
        few_rows.rows_times_transposed(a, b, c)
        return True
    if trans_a == NO_TRANS and few_rows.few(c.shape[0]):
        few_rows.rows_times(a, b, c)
        return True
    if trans_a == TRANS and trans_b == NO_TRANS and few_rows.few(k):
        few_rows.transposed_times(a, b, c)
        return True
    return False


@_jit
def _gemv(blas, trans_a, trans_b, a, b, c, k, beta):  # pragma: no cover - compiled
    """``_blas_product`` for c of one column (c = op(a) · v + β c, v = op(b) [k, 1]) or one
    row (cᵀ = op(b)ᵀ · v + β cᵀ, v = op(a) [1, k]) as a matrix-vector product (v contiguous
    either way): OpenBLAS's gemm with n = 1 or m = 1 takes 2-4x as long (a [65536, 16]
    layer of one output: 304 µs against 162; [4096, 256]: 229 against 51)."""
    m, n = c.shape
    one, scale = c.dtype.type(1), c.dtype.type(beta)
    if n == 1:
        rows, cols = (m, k) if trans_a == NO_TRANS else (k, m)
        call_gemv(blas[GEMV], trans_a, rows, cols, one, a.ctypes.data, a.shape[1],
                  b.ctypes.data, 1, scale, c.ctypes.data, 1)
    else:
        rows, cols = (k, n) if trans_b == NO_TRANS else (n, k)
        call_gemv(blas[GEMV], TRANS if trans_b == NO_TRANS else NO_TRANS, rows, cols, one,
                  b.ctypes.data, b.shape[1], a.ctypes.data, 1, scale, c.ctypes.data, 1)


@_jit
def _gemm_over_rows(blas, trans_a, a, b, c, rows):  # pragma: no cover - compiled
    """c [m, n] = op(a) b, a sum over ``rows`` (a weight gradient gᵀ x, a bias gradient
    1ᵀ g; a [rows, m] transposed or [m, rows], b [rows, n], all contiguous) as ``_gemm``
    (gemv for one output row: on [100000, 8], 94 µs against gemm's 220), on one BLAS
    thread where the eager op takes one (``ffnn.ops.matrix.narrow_reduction``); whether it
    ran."""
    m, n = c.shape
    return _gemm(blas, trans_a, NO_TRANS, a, b, c, rows, _narrow_reduction(rows, m, n))


@_jit
def _by_rows(blas, split, g, x, c):  # pragma: no cover - compiled
    """c [m, n] = gᵀ x for g [rows, m], x [rows, n] by parts of rows on OpenBLAS's threads
    (``row_parts.split_product``, as the eager ``accel.product_over_rows``) where ``split``
    splits into at least 2 parts of 4·parts rows or more; whether it ran."""
    count = split[2]
    return (blas[ROWS_PART] != 0 and split[0] != 0 and count >= 2
            and g.shape[0] >= 4 * count * count
            and row_parts.split_product(g, x, c, split, blas))


@_jit
def _affine_forward(table, base, blas, split, source, w, wt, z,
                    x):  # pragma: no cover - compiled
    """z = source · Wᵀ + b for source [n, in], W [out, in] and the layer's bias b (where it has
    one). Through BLAS, z is filled with b's rows (``bias_rows``: by parts of rows on
    OpenBLAS's threads from ``SPLIT_MIN`` elements, as ``split`` says) and BLAS adds the
    product to it (β = 1, as torch's ``addmm``): OpenBLAS zeroes z itself for β = 0, so the
    fill takes that pass's place and the pass adding b goes (the sweep's ReLU SGD forward,
    256 rows of 512: 1.50-1.52 → 1.45-1.46 ms). Else (``_few_rows``'s loops, or no bias)
    the product (``_product_forward``, which may compute it transposed), then b."""
    if table[base + BIAS] != 0 and bias_then_product(
            blas, split, source, w, _vector(table, base + BIAS, z.shape[1], x), z):
        return
    _product_forward(blas, split, source, w, wt, z)
    add_bias(table, base, z, x)


@_jit
def bias_then_product(blas, split, source, w, bias, z):  # pragma: no cover - compiled
    """z = source · Wᵀ + b, z filled with b's rows (by parts of rows as ``split`` says) and
    BLAS adding the product (β = 1), where BLAS computes the forward as it is: not
    ``_few_rows``'s loops (but where MKL takes it) nor transposed. Whether it did (else z
    holds nothing of use). The compiled chains' forward, and the eager ``Linear``'s
    (``ffnn.accel.bias_first_forward``)."""
    n = z.shape[0]
    in_f = w.shape[1]
    if (few_rows.narrow(n, w.size) and not _on_mkl(blas, NO_TRANS, TRANS, z, in_f)) or \
            not _on_blas(blas, z, in_f) or _transposes(blas, w, z):
        return False
    bias_rows.fill_by_parts(z, bias, split, blas[BIAS_ROWS_PART])
    _blas_product(blas, NO_TRANS, TRANS, source, w, z, in_f, ANY_THREADS, ACCUMULATE)
    return True


@_jit
def _transposes(blas, w, z):  # pragma: no cover - compiled
    """Whether the forward into z [n, out] with W [out, in] is computed as (W xᵀ)ᵀ
    (``ffnn.ops.matrix.transposed_forward``, on a BLAS that gains from it), past
    ``_few_rows``'s loops."""
    n, out_f = z.shape
    return blas[TRANSPOSED_FORWARD] != 0 and not few_rows.narrow(n, w.size) and \
        _transposed_forward(n, w.shape[1], out_f)


@_jit
def _product_forward(blas, split, source, w, wt, z):  # pragma: no cover - compiled
    """z = source · Wᵀ for source [n, in], W [out, in]: by BLAS or ``_few_rows`` where
    ``_gemm`` takes it; as (W sourceᵀ)ᵀ where ``_transposes`` says so (as the eager op,
    ``ffnn.ops.matrix.forward_transposed``: the same BLAS call, then the copy); from one
    input an outer product (``outer_rows``, by parts of rows when large). A small product
    past those runs in loops: dot products along the rows of source and W
    (``few_rows.rows_times_transposed``), or, for few inputs onto many outputs, rows of
    Wᵀ (copied into wt) added along the outputs (``_rows_times``)."""
    out_f, in_f = w.shape
    if in_f == 1:
        outer_rows.outer_by_parts(source.reshape(source.shape[0]), w.reshape(out_f), z, split,
                                  blas[OUTER_ROWS_PART])
        return
    if _transposes(blas, w, z):
        product_t = np.empty((out_f, z.shape[0]), z.dtype)
        _blas_product(blas, NO_TRANS, TRANS, w, source, product_t, in_f, ANY_THREADS,
                      OVERWRITE)
        transpose.into(product_t, z)
        return
    if _gemm(blas, NO_TRANS, TRANS, source, w, z, in_f, ANY_THREADS):
        return
    if in_f >= LOOP_DOTS_INPUTS or out_f < LOOP_ROWS_OUTPUTS:
        few_rows.rows_times_transposed(source, w, z)
        return
    transpose.into(w, wt)
    _rows_times(source, wt, z)


@_jit
def _product_weight(blas, split, g, source, gw):  # pragma: no cover - compiled
    """dL/dW = gᵀ · source for g [n, out], source [n, in]: from one row the outer product
    (``outer_rows``, by parts of rows on OpenBLAS's threads when large); by parts of rows
    where the eager op sums by parts (``ffnn.ops.matrix.sums_by_rows``) and ``split``
    splits (``_by_rows``), else ``_gemm_over_rows``, else loops (``_summed_rows``: along
    the outputs for fewer inputs than ``LOOP_DOTS_INPUTS``, [100, 50]ᵀ[100, 1] 8.1 -> 1.0 µs,
    else along the inputs)."""
    n, out_f = g.shape
    in_f = source.shape[1]
    if n <= 1:
        if n == 0:
            gw[:] = 0
        else:
            outer_rows.outer_by_parts(g[0], source[0], gw, split, blas[OUTER_ROWS_PART])
        return
    if _sums_by_rows(n, out_f, in_f, _on_mkl(blas, TRANS, NO_TRANS, gw, n)) and _by_rows(
            blas, split, g, source, gw):
        return
    if _gemm_over_rows(blas, TRANS, g, source, gw, n):
        return
    if in_f < LOOP_DOTS_INPUTS and out_f > in_f:  # few inputs: add along the outputs
        gwt = np.empty((in_f, out_f), gw.dtype)
        _summed_rows(source, g, gwt)
        transpose.into(gwt, gw)
        return
    _summed_rows(g, source, gw)


@_jit
def _summed_rows(g, source, gw):  # pragma: no cover - compiled
    """gw [out, in] = gᵀ · source (g [n, out], source [n, in], n ≥ 1) in loops along the
    rows of gw: the first row's terms written, the others' added in order (each element
    the same sum for gᵀ source as for (sourceᵀ g)ᵀ, so a few inputs take the transposed
    form, whose rows are the long ones)."""
    outer_rows.outer(g[0], source[0], gw)
    for i in range(1, g.shape[0]):
        grow, srow = g[i], source[i]
        for o in range(gw.shape[0]):
            gv = grow[o]
            gwrow = gw[o]
            for k in range(gw.shape[1]):
                gwrow[k] += gv * srow[k]


@_jit
def _product_input(blas, split, g, w, gx):  # pragma: no cover - compiled
    """dL/dsource = g · W for g [n, out], W [out, in]; from one output an outer product
    (``outer_rows``, by parts of rows when large)."""
    if w.shape[0] == 1:
        outer_rows.outer_by_parts(g.reshape(g.shape[0]), w.reshape(w.shape[1]), gx, split,
                                  blas[OUTER_ROWS_PART])
    elif not _gemm(blas, NO_TRANS, NO_TRANS, g, w, gx, g.shape[1], ANY_THREADS):
        _rows_times(g, w, gx)


@_jit
def _rows_times(a, b, c):  # pragma: no cover - compiled
    """c = a · b by rows of b: cᵢ = Σₖ aᵢₖ bₖ, each element summed over k in order (the
    innermost loop runs along a row of b and c, and vectorises), the first term written
    rather than added to zeros: an outer product (k = 1) is one pass, each element one
    product as ``ffnn.ops.matrix.product``'s ([65536, 1] · [1, 16]: 619 µs with a zeroing
    pass first, 200 µs)."""
    if a.shape[1] == 0:
        c[:] = 0
        return
    for i in range(a.shape[0]):
        row, arow = c[i], a[i]
        av, brow = arow[0], b[0]
        for o in range(b.shape[1]):
            row[o] = av * brow[o]
        for k in range(1, a.shape[1]):
            av, brow = arow[k], b[k]
            for o in range(b.shape[1]):
                row[o] += av * brow[o]


@_jit
def _drop(table, base, size, g, out, item, split, context):  # pragma: no cover - compiled
    """out = g · m on ``size`` elements of ``item`` bytes at the addresses g and out, m =
    1/(1 - p) where the layer's keep mask is set, else 0: the eager op's own kernel
    (``ops.dropout.DROPOUT``), split as ``split`` says; forward g = h, out the dropout
    output; backward g = dL/d output. (Not in place, as ``_derive``.)"""
    blas_split.run_sized(split, context, table[base + DROP_ENTRY], size, g, table[base + KEEP],
                         out, 0, 0, 0, table[base + DROP_SCALE], (item, 1, item, 0, 0, 0))


@_jit
def _draw_mask(table, base, size, split, context):  # pragma: no cover - compiled
    """The layer's keep mask of ``size`` elements, the bits ``ops.dropout.keep_mask`` draws
    from the key and threshold in its fields (SplitMix64 output i gives elements 2i and
    2i + 1): by parts of pairs over OpenBLAS's threads as ``accel.keep_mask`` splits them
    (each element computed from its index, so any split gives the same mask)."""
    keep, key = table[base + KEEP], table.ctypes.data + 8 * (base + MASK_KEY)
    pairs = size // 2
    blas_split.run_sized(split, context, table[base + MASK_ENTRY], pairs, keep, keep, key,
                         0, 0, 0, 0, (0, 2, 0, 0, 0, 0))
    if size % 2:  # the last element: the low half of output ``pairs``
        values = numba.carray(address_as_pointer(key, np.uint64), 2)
        mask = numba.carray(address_as_pointer(keep, np.bool_), size)
        eager_kernels.keep_mask(values[0], values[1], mask[size - 1:], numba.uint64(pairs))


@_jit
def _by_parts(blas, split, a):  # pragma: no cover - compiled
    """Whether a norm over a [n, width] runs by parts of rows, as the eager op's would
    (``ffnn.accel._norm_parts``): ``split`` splits, in parts of 4·parts² rows or more."""
    count = split[2]
    return (blas[NORM_PART] != 0 and split[0] != 0 and count >= 2
            and a.size >= NORM_PARTS_MIN and a.shape[0] >= 4 * count * count)


@_jit
def _normalize(table, base, z, y, x, blas, split, context):  # pragma: no cover - compiled
    """y = x̂ γ + β of the layer's norm over z [n, out]: the eager ops' own kernels
    (``ffnn._kernels``; by parts of rows as the eager ops', layer norm's rows on
    OpenBLAS's threads, batch norm's through ``ffnn.kernels.norm_parts``), keeping x̂ and
    1/σ (batch norm: and the batch's mean and variance, which it folds into the running
    statistics where the table has them)."""
    if table[base + NORM] == RUNNING_BATCH_NORM:
        _running_normalize(table, base, z, y, x)
        return
    n, out_f = z.shape
    gamma = _vector(table, base + GAMMA, out_f, x)
    beta = _vector(table, base + BETA, out_f, x)
    x_hat = _matrix(table, base + X_HAT, n, out_f, x)
    eps = double_from_bits(table[base + EPS])
    if table[base + NORM] == LAYER_NORM:
        rstd = _vector(table, base + RSTD, n, np.float64)
        if _by_parts(blas, split, z) and blas[LAYER_NORM_PART] != 0:
            row, scalars = out_f * x.itemsize, np.array((float(out_f), eps))
            blas_split.run_parts(split, context, blas[LAYER_NORM_PART], n, z.ctypes.data,
                                 y.ctypes.data, x_hat.ctypes.data, rstd.ctypes.data,
                                 gamma.ctypes.data, beta.ctypes.data, scalars.ctypes.data,
                                 (row, row, row, 8, 0, 0))
        else:
            eager_kernels.layer_norm_forward(z, gamma, beta, eps, y, x_hat, rstd)
    else:
        rstd = _vector(table, base + RSTD, out_f, np.float64)
        mean = _vector(table, base + MEAN, out_f, np.float64)
        var = _vector(table, base + VAR, out_f, np.float64)
        if not (_by_parts(blas, split, z) and norm_parts.batch_norm_forward(
                z, gamma, beta, eps, y, x_hat, mean, var, rstd, split, blas[NORM_PART])):
            eager_kernels.batch_norm_forward(z, gamma, beta, eps, y, x_hat, mean, var, rstd)
        if table[base + RUNNING_MEAN] != 0:
            _update_running(table, base, mean, var, x)


@_jit
def _running_normalize(table, base, z, y, x):  # pragma: no cover - compiled
    """y = a z + c over z [n, out] for a batch norm on its running statistics μ, σ² (eval
    mode): a = γ/√(σ² + ε) and c = β - μ a per feature, each step rounded in the layer's
    dtype as the eager op (``ops.norms.RunningBatchNorm``) rounds it (a float64 quotient
    rounded once to float32 is float32's own); its backward: ``_running_denormalize``."""
    n, out_f = z.shape
    gamma = _vector(table, base + GAMMA, out_f, x)
    beta = _vector(table, base + BETA, out_f, x)
    mean = _vector(table, base + RUNNING_MEAN, out_f, x)
    var = _vector(table, base + RUNNING_VAR, out_f, x)
    a = _vector(table, base + RUNNING_SCALE, out_f, x)
    c = _vector(table, base + RUNNING_SHIFT, out_f, x)
    eps = double_from_bits(table[base + EPS])
    for o in range(out_f):
        a[o] = eps  # ε in the layer's dtype
        a[o] = var[o] + a[o]
        a[o] = 1.0 / np.sqrt(a[o])
        a[o] = a[o] * gamma[o]
        c[o] = mean[o] * a[o]
        c[o] = beta[o] - c[o]
    for i in range(n):
        for o in range(out_f):
            y[i, o] = z[i, o] * a[o] + c[o]


@_jit
def _update_running(table, base, mean, var, x):  # pragma: no cover - compiled
    """A batch norm's running statistics r ← (1 - m)·r + m·(the batch's), the variance
    unbiased (·n/(n - 1)), as the eager op updates them (``ops.norms.update_running``), and
    its batch count one more where the table has it."""
    size = mean.size
    factors = _vector(table, base + RUNNING_FACTORS, 2, np.float64)
    eager_kernels.update_running_pair(
        _vector(table, base + RUNNING_MEAN, size, x), mean,
        _vector(table, base + RUNNING_VAR, size, x), var,
        _vector(table, base + RUNNING_KEEP, 1, x)[0], factors[0], factors[1])
    if table[base + BATCHES] != 0:
        count = _vector(table, base + BATCHES, 1, np.int64)
        count[0] += 1


@_jit
def _denormalize(table, base, g, out, x, blas, split):  # pragma: no cover - compiled
    """dL/dz into ``out`` from g = dL/dy of the layer's norm (by parts of rows as the eager
    ops', ``_by_parts``), and dL/dγ = Σ g x̂, dL/dβ = Σ g
    (summed in float64, then in the parameters' dtype, as the eager ops return them)."""
    if table[base + NORM] == RUNNING_BATCH_NORM:
        _running_denormalize(table, base, g, out, x)
        return
    n, out_f = g.shape
    gamma = _vector(table, base + GAMMA, out_f, x)
    x_hat = _matrix(table, base + X_HAT, n, out_f, x)
    sum_gx = _vector(table, base + SUM_GX, out_f, np.float64)
    sum_g = _vector(table, base + SUM_G, out_f, np.float64)
    parts = _by_parts(blas, split, g)
    if table[base + NORM] == LAYER_NORM:
        rstd = _vector(table, base + RSTD, n, np.float64)
        if not (parts and norm_parts.layer_norm_backward(
                g, x_hat, rstd, gamma, True, out, sum_gx, sum_g, split, blas[NORM_PART])):
            eager_kernels.layer_norm_backward(g, x_hat, rstd, gamma, True, out, sum_gx, sum_g)
    else:
        rstd = _vector(table, base + RSTD, out_f, np.float64)
        if not (parts and norm_parts.batch_norm_backward(
                g, x_hat, rstd, gamma, True, out, sum_gx, sum_g, split, blas[NORM_PART])):
            eager_kernels.batch_norm_backward(g, x_hat, rstd, gamma, True, out, sum_gx, sum_g)
    for field, sums in ((GRAD_GAMMA, sum_gx), (GRAD_BETA, sum_g)):
        if table[base + field] != 0:
            grad = _vector(table, base + field, out_f, x)
            for o in range(out_f):
                grad[o] = sums[o]


@_jit
def _running_denormalize(table, base, g, out, x):  # pragma: no cover - compiled
    """dL/dz = a g into ``out`` from g = dL/dy of a batch norm on its running statistics
    (y = a z + c), and dL/dγ = Σ g x̂ with x̂ = (z - μ)/√(σ² + ε), dL/dβ = Σ g where the
    table has them (summed in float64, as ``_denormalize``)."""
    n, out_f = g.shape
    a = _vector(table, base + RUNNING_SCALE, out_f, x)
    z = _matrix(table, base + LINEAR_OUT, n, out_f, x)
    mean = _vector(table, base + RUNNING_MEAN, out_f, x)
    var = _vector(table, base + RUNNING_VAR, out_f, x)
    rstd = _vector(table, base + RSTD, out_f, np.float64)
    sum_gx = _vector(table, base + SUM_GX, out_f, np.float64)
    sum_g = _vector(table, base + SUM_G, out_f, np.float64)
    eps = double_from_bits(table[base + EPS])
    for o in range(out_f):
        rstd[o] = 1.0 / np.sqrt(var[o] + eps)
        sum_gx[o] = 0.0
        sum_g[o] = 0.0
    for i in range(n):
        for o in range(out_f):
            grad = g[i, o]
            out[i, o] = grad * a[o]
            sum_g[o] += grad
            sum_gx[o] += grad * ((z[i, o] - mean[o]) * rstd[o])
    for field, sums in ((GRAD_GAMMA, sum_gx), (GRAD_BETA, sum_g)):
        if table[base + field] != 0:
            grad_param = _vector(table, base + field, out_f, x)
            for o in range(out_f):
                grad_param[o] = sums[o]


@_jit
def add_bias(table, base, z, x):  # pragma: no cover - compiled
    """z [n, out] += b, the layer's bias, where it has one (the eager op's loop,
    ``ffnn._kernels.add_rows``)."""
    if table[base + BIAS] != 0:
        eager_kernels.add_rows(z, _vector(table, base + BIAS, z.shape[1], x))


@_jit
def activate(table, base, size, item, split, context):  # pragma: no cover - compiled
    """h = f(z) on ``size`` elements of ``item`` bytes (``PRE`` → ``OUTPUT``, and the values
    the activation keeps): its forward entry point, split as ``split`` says from
    ``SPLIT_FORWARD`` elements; nothing without activation."""
    if table[base + FORWARD] != 0:
        none = np.int64(0)  # typed as _derive's arguments, so _run_from compiles once
        _run_from(table[base + SPLIT_FORWARD], split, context, table[base + FORWARD], size,
                  table[base + PRE], table[base + OUTPUT], table[base + KEPT],
                  table[base + KEPT + 1], none, none, table[base + SCALARS],
                  (item, item, table[base + KEPT_SIZES], table[base + KEPT_SIZES + 1], none,
                   none))


@_jit
def _run_from(minimum, split, context, entry, n, a0, a1, a2, a3, a4, a5, scalars,
              sizes):  # pragma: no cover - compiled
    """``blas_split.run_sized`` split from ``minimum`` elements (an activation's own)."""
    if n < minimum:
        call_entry(entry, n, a0, a1, a2, a3, a4, a5, scalars)
    else:
        blas_split.run_parts(split, context, entry, n, a0, a1, a2, a3, a4, a5, scalars, sizes)


@_jit
def bias_gradient(table, base, g, x, blas, split):  # pragma: no cover - compiled
    """dL/db = Σᵢ gᵢ over the rows of g [n, out], where the layer has a bias: by parts of
    rows where the eager ``matrix.column_sums`` sums so (``ffnn.ops.matrix.sums_by_rows``)
    and ``split`` splits (``_by_rows``), else in order in a
    loop, or 1ᵀ g through BLAS (as the eager ``matrix.column_sums``) for narrow rows of
    ``BIAS_BLAS_MIN`` elements or more, where the loop waits on each row's additions
    ([16384, 16]: 62 µs against 22; [100000, 1]: 376 µs against 15; on [4096, 50] the loop
    is as quick, and BLAS's call costs more than it saves), and for any rows from
    ``BIAS_BLAS_WIDE_MIN`` elements, where BLAS's gemv sums on both threads ([1024, 512]
    float32: 88-118 µs against 32-79; [4096, 128] 85-123 against 29-99; [8192, 64] level;
    in the sweep's steps, [256, 512]: ReLU SGD 4.08-4.10 → 4.01-4.05 ms, Adam 4.26-4.31 →
    4.06-4.20)."""
    if table[base + GRAD_BIAS] != 0:
        n, width = g.shape
        gb = _vector(table, base + GRAD_BIAS, width, x)
        if _sums_by_rows(n, 1, width, False) and _by_rows(
                blas, split, np.ones((n, 1), g.dtype), g, gb.reshape(1, width)):
            return
        if (width < BIAS_BLAS_WIDTH and n * width >= BIAS_BLAS_MIN
                or n * width >= BIAS_BLAS_WIDE_MIN) and _gemm_over_rows(
                blas, NO_TRANS, np.ones((1, n), g.dtype), g, gb.reshape(1, width), n):
            return
        gb[:] = 0
        for i in range(n):
            row = g[i]
            for o in range(width):
                gb[o] += row[o]


@_jit
def _forward(x, table, dims, blas, split, context, norms):  # pragma: no cover - compiled
    """Each layer's z = source · Wᵀ + b, its norm's y = n(z) (else y = z) and h = f(y) (its
    activation's entry point, split as ``split`` says: ``blas_split.run``) into its buffers;
    the last h. ``norms``: None for a chain without norms (``step``'s), which then compiles
    no norm's code."""
    layers, n = dims.shape[0], x.shape[0]
    source = x
    for layer in range(layers):
        base, out_f, in_f = FIELDS * layer, dims[layer, 0], dims[layer, 1]
        w = _matrix(table, base + WEIGHT, out_f, in_f, x)
        z = _matrix(table, base + PRE, n, out_f, x)
        wt = _matrix(table, base + TRANSPOSED, in_f, out_f, x)
        linear = _matrix(table, base + LINEAR_OUT, n, out_f, x)
        _affine_forward(table, base, blas, split, source, w, wt, linear, x)
        if norms is not None:  # a compile-time constant: numba prunes the branch
            if table[base + NORM] != NO_NORM:
                _normalize(table, base, linear, z, x, blas, split, context)
        activate(table, base, n * out_f, x.itemsize, split, context)
        if table[base + KEEP] != 0:
            if table[base + MASK_ENTRY] != 0:
                _draw_mask(table, base, n * out_f, split, context)
            _drop(table, base, n * out_f, table[base + OUTPUT], table[base + DROPPED],
                  x.itemsize, split, context)
        source = _matrix(table, base + DROPPED, n, out_f, x)
    return source


@_jit
def _derive(table, base, size, g, out, split, context):  # pragma: no cover - compiled
    """out = g · f'(z): the activation's backward entry point, given dL/dh (g) and the
    arrays it reads (``SAVED``), split as ``split`` says from ``SPLIT_BACKWARD`` elements.
    (Not in place: a loop whose input and output alias does not vectorise.)"""
    count = table[base + SAVED_COUNT]
    slots = [0, 0, 0, 0, 0, 0]
    sizes = [g.itemsize, 0, 0, 0, 0, 0]
    slots[0] = g.ctypes.data
    for j in range(count):
        field = table[base + SAVED + j]
        slots[1 + j] = table[base + field]
        kept = field - KEPT
        sizes[1 + j] = table[base + KEPT_SIZES + kept] if 0 <= kept < 2 else g.itemsize
    slots[1 + count] = out.ctypes.data
    sizes[1 + count] = g.itemsize
    _run_from(table[base + SPLIT_BACKWARD], split, context, table[base + BACKWARD], size,
              slots[0], slots[1], slots[2], slots[3], slots[4], slots[5],
              table[base + SCALARS],
              (sizes[0], sizes[1], sizes[2], sizes[3], sizes[4], sizes[5]))


@_jit
def _add_l2(w, gw, l2):  # pragma: no cover - compiled
    """dL/dW += λ W (λ in W's dtype); returns ‖W‖² (float64)."""
    coefficient = w.dtype.type(l2)
    squares = 0.0
    for o in range(w.shape[0]):
        wrow, grow = w[o], gw[o]
        for k in range(w.shape[1]):
            grow[k] += wrow[k] * coefficient
            squares += float(wrow[k]) * float(wrow[k])
    return squares


@_jit
def _backward(x, table, dims, current, spare, blas, l2, split, context, stop,
              norms):  # pragma: no cover - compiled
    """From dL/dh of the last layer in ``current``: dL/dz (through the activation, then the
    norm, each into the other buffer), dL/dW = gᵀ · source (+ λ W, the L2 term, when
    ``l2`` = λ ≠ 0; none where the table has no gradient for W: a frozen weight), dL/db =
    Σᵢ gᵢ (and the norm's dL/dγ, dL/dβ) into each gradient buffer, and dL/dsource = g · W
    into the buffer dL/dz is not in, which then holds the next dL/dh; down to layer
    ``stop`` (the layers below it have no gradient to compute); ``norms`` as ``_forward``'s.
    Returns ½ λ Σ_layers ‖W‖² (0 without it)."""
    layers, n = dims.shape[0], x.shape[0]
    squares = 0.0
    for layer in range(layers - 1, stop - 1, -1):
        base, out_f, in_f = FIELDS * layer, dims[layer, 0], dims[layer, 1]
        w = _matrix(table, base + WEIGHT, out_f, in_f, x)
        if table[base + KEEP] != 0:
            _drop(table, base, n * out_f, np.int64(current.ctypes.data),
                  np.int64(spare.ctypes.data), x.itemsize, split, context)  # as _forward's
            current, spare = spare, current
        g = current[:n * out_f].reshape(n, out_f)
        if table[base + BACKWARD] != 0:
            dz = spare[:n * out_f].reshape(n, out_f)
            _derive(table, base, n * out_f, g, dz, split, context)
            g, current, spare = dz, spare, current
        if norms is not None:
            if table[base + NORM] != NO_NORM:
                dz = spare[:n * out_f].reshape(n, out_f)
                _denormalize(table, base, g, dz, x, blas, split)
                g, current, spare = dz, spare, current
        source = x if layer == 0 else _matrix(table, base - FIELDS + DROPPED, n, in_f, x)
        bias_gradient(table, base, g, x, blas, split)
        if table[base + GRAD_WEIGHT] != 0:
            gw = _matrix(table, base + GRAD_WEIGHT, out_f, in_f, x)
            _product_weight(blas, split, g, source, gw)
            if l2 != 0.0:
                squares += _add_l2(w, gw, l2)
        if layer > stop:
            _product_input(blas, split, g, w, spare[:n * in_f].reshape(n, in_f))
            current, spare = spare, current
    return 0.5 * l2 * squares


@_jit
def _update(parameters, updates, hyper, steps, adam, split,
            context):  # pragma: no cover - compiled
    """Each parameter (a row of ``parameters``: ``PARAMETER_FIELDS``) updated by its
    optimizer's generated kernel, through the entry point in ``updates``, on the parameter,
    its gradient and its three state arrays, with the scalars of its row of ``hyper``
    (Adam's bias corrections for its step count written in first)."""
    for index in range(parameters.shape[0]):
        row = hyper[index]
        if adam:
            row[ADAM_STEP_SIZE], row[ADAM_CORRECTION] = _step_coefficients(
                row[ADAM_LR], row[ADAM_BETA1], row[ADAM_BETA2], steps[index])
        fields = parameters[index]
        blas_split.run(split, context, updates[index], fields[5], fields[0], fields[1],
                       fields[2], fields[3], fields[4], 0, row.ctypes.data)


@_jit
def step(x, y_float, y_index, table, dims, blas, loss_code, mean, factor, l2, parameters,
         updates, hyper, steps, adam, split, context, norms):  # pragma: no cover - compiled
    """One training step of the chain on ``x`` [n, in]; ``table``: the addresses of every
    array (``FIELDS`` per layer, see above), kept alive by the caller; ``dims[l]`` =
    (out, in) of layer l; ``blas``: the addresses of NumPy's gemm for x's dtype and of
    OpenBLAS's thread count's setter and getter (``native.blas_functions``; gemm 0: loops
    only); the loss: ``factor`` times the ``loss_code`` loss (mean or sum), plus
    ``½ l2 Σ‖W‖²``; ``parameters``: a row per parameter (``PARAMETER_FIELDS``), ``updates``
    the entry point of each one's update kernel (none: the caller runs the optimizer),
    ``hyper`` its scalars (``adam``: Adam's, with ``steps`` the step counts); ``split``,
    ``context``: large activations and updates split over OpenBLAS's threads
    (``blas_split.run``; ``NO_SPLIT``: whole); ``norms``: True where a layer has a norm,
    None where none has (that step compiles without the norms' code: ~10 s less on a cold
    cache). Returns the loss."""
    layers = dims.shape[0]
    n = x.shape[0]
    width = 0
    for layer in range(layers):
        width = max(width, dims[layer, 0], dims[layer, 1])
    grad_a = _vector(table, FIELDS * layers, n * width, x)
    grad_b = _vector(table, FIELDS * layers + 1, n * width, x)
    out = _forward(x, table, dims, blas, split, context, norms)
    c = dims[layers - 1, 0]
    loss = _loss(out, y_float, y_index, loss_code, mean, factor, grad_a[:n * c].reshape(n, c),
                 blas, split)
    loss += _backward(x, table, dims, grad_a, grad_b, blas, l2, split, context,
                      np.int64(0), norms)  # not a literal 0: the chain's backward's signature
    if updates.size:
        _update(parameters, updates, hyper, steps, adam, split, context)
    return loss
