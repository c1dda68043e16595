"""Matrix products: the general ``matmul`` and the fused dense layer ``linear``."""

from __future__ import annotations

import numpy as np

from ffnn import accel
from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.ops._blas import on_one_thread
from ffnn.ops.elementwise import unbroadcast, unbroadcast_graph


class MatMul(Op):
    """y = a @ b (batched, broadcasting, 1-D promoted as in NumPy);
    dL/da = dL/dy @ bᵀ,  dL/db = aᵀ @ dL/dy. Products of two matrices run as a Linear's do
    (``product``)."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                f"({a.shape[-1] if a.ndim else '-'} != "
                f"{(b.shape[-2] if b.ndim > 1 else b.shape[0]) if b.ndim else '-'})"
            )
        self.a_shape, self.b_shape = a.shape, b.shape
        a2, b2 = (a[None, :] if a.ndim == 1 else a), (b[:, None] if b.ndim == 1 else b)
        self.shapes2 = a2.shape, b2.shape
        needs = self.needs_input_grad  # each kept only for the other's gradient (torch's)
        self.a2, self.b2 = a2 if needs[1] else None, b2 if needs[0] else None
        return _matmul(a, b)

    def backward(self, grad):
        m = xp(grad)
        g = grad
        if len(self.b_shape) == 1:  # first: for 1-D @ 1-D, g is 0-d and becomes [1, 1]
            g = m.expand_dims(g, -1)
        if len(self.a_shape) == 1:
            g = m.expand_dims(g, -2)
        a2, b2 = self.a2, self.b2
        grad_a = grad_b = None
        a2_shape, b2_shape = self.shapes2
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(_matmul(g, m.swapaxes(b2, -1, -2)),
                                 a2_shape).reshape(self.a_shape)
        if self.needs_input_grad[1]:
            grad_b = unbroadcast(_matmul(m.swapaxes(a2, -1, -2), g),
                                 b2_shape).reshape(self.b_shape)
        return grad_a, grad_b

    def backward_graph(self, grad, a, b):
        a2 = a.unsqueeze(0) if a.ndim == 1 else a
        b2 = b.unsqueeze(-1) if b.ndim == 1 else b
        g = grad.unsqueeze(-1) if b.ndim == 1 else grad
        g = g.unsqueeze(-2) if a.ndim == 1 else g
        grad_a = grad_b = None
        if self.needs_input_grad[0] and a.ndim == 2 and b.ndim == 2:
            grad_a = Linear.apply(grad, b, None)  # g bᵀ as one op: a Linear with weight b
        elif self.needs_input_grad[0]:
            grad_a = _shaped(unbroadcast_graph(g @ b2.mT, a2.shape), a.shape)
        if self.needs_input_grad[1]:
            grad_b = _shaped(unbroadcast_graph(a2.mT @ g, b2.shape), b.shape)
        return grad_a, grad_b


def _shaped(t, shape):
    """The tensor ``t`` with ``shape`` (itself where it has it: no op recorded)."""
    return t if tuple(t.shape) == tuple(shape) else t.reshape(tuple(shape))


def _rows(t):
    """The tensor ``t`` as [rows, last axis] (itself where it is 2-D)."""
    return t if t.ndim == 2 else t.reshape(-1, t.shape[-1])


def _matmul(a, b):
    """a @ b: ``product`` for two matrices of one float dtype, NumPy's (or CuPy's) ``@``
    else."""
    if a.ndim == 2 and b.ndim == 2 and a.dtype == b.dtype and a.dtype.char in "fd" and \
            type(a) is np.ndarray and type(b) is np.ndarray:
        return product(a, b)
    return a @ b


class Linear(Op):
    """The dense layer, fused: y = x Wᵀ + b for x of shape [..., in], W [out, in], b [out].

    dL/dx = dL/dy · W,  dL/dW = (dL/dy)ᵀ · x,  dL/db = Σ_rows dL/dy.
    Fused so that each product is one BLAS call on 2-D views (no copy for Wᵀ) and only the
    gradients someone needs are computed (none for the input of a first layer, none for a
    frozen weight); x is kept for the backward only when W needs its gradient.
    """

    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
                f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) "
                f"but the weight expects {weight.shape[1]} (weight shape {weight.shape})"
            )
        in_features, out_features = weight.shape[1], weight.shape[0]
        x2 = x.reshape(-1, in_features)
        y = None if bias is None else accel.bias_first_forward(x2, weight, bias)
        if y is None:
            y = product(x2, weight.T, transposed=True)
            if bias is not None:
                accel.add_bias(y, bias)
        self.x_shape = x.shape
        if self.needs_input_grad[1]:
            self.x2 = x2
        if self.needs_input_grad[0]:
            self.weight = weight
        return y.reshape(*x.shape[:-1], out_features)

    def backward(self, grad):
        g2 = grad.reshape(-1, grad.shape[-1])
        need_x, need_w, need_b = self.needs_input_grad
        grad_x = product(g2, self.weight).reshape(self.x_shape) if need_x else None
        grad_w = weight_product(g2, self.x2) if need_w else None
        grad_b = column_sums(g2) if need_b else None
        return grad_x, grad_w, grad_b

    def backward_graph(self, grad, x, weight, bias=None):
        g2 = _rows(grad)
        need_x, need_w, need_b = self.needs_input_grad
        return (_shaped(g2 @ weight, x.shape) if need_x else None,
                g2.mT @ _rows(x) if need_w else None,
                g2.sum(0) if need_b else None)


def product(a: np.ndarray, b: np.ndarray, transposed: bool | None = None) -> np.ndarray:
    """``a @ b`` for a [m, k] and b [k, n]. With k = 1 (a batch of one row, a layer of one
    input or one output) it is an outer product, one product per element (as BLAS's),
    compiled (``accel.outer_product``; NumPy's broadcast ``a * b`` without numba), where
    OpenBLAS's GEMM takes 3-4x longer (a [512, 1] @ [1, 1000] float32 product: ~0.85 ms
    against ~0.2 ms). With the compiled kernels on, a product of 2-4 rows, or summed over
    2-4 rows, or a forward x Wᵀ (``transposed``: b is Wᵀ, as a Linear says) of up to 12 rows
    on a small weight, runs by compiled loops that read the weight once
    (``accel.few_rows_product``; OpenBLAS's GEMM packs it and takes 2-5x as long) but where
    Intel MKL computes it (``ffnn.kernels.mkl_products``: faster still), and a float product
    of a few more rows and moderate work runs on one BLAS thread (``one_thread_product``;
    the thread functions are found through ``ffnn.kernels``, which loads numba:
    ``FFNN_ACCEL=0`` keeps NumPy alone)."""
    if a.shape[1] == 1:
        return accel.outer_product(a, b)
    if accel.enabled and type(a) is np.ndarray and a.dtype.char in "fd":
        by_mkl = _mkl_product(a, b)
        if by_mkl is not None:
            return by_mkl
        few = accel.few_rows_product(a, b, transposed)
        if few is not None:
            return few
        if transposed and _transposed_forward_here(a, b):
            return forward_transposed(a, b.T)
        if one_thread_product(a.shape[0], a.shape[1], b.shape[-1], a.itemsize):
            return on_one_thread(np.matmul, a, b)
    return a @ b


def _mkl_product(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """a @ b by Intel MKL where it is used and takes it (``ffnn.kernels.mkl_products``), or
    None; nothing asked below ``accel.MKL_MIN_PRODUCT`` multiply-adds."""
    if a.shape[0] * a.shape[1] * b.shape[1] < accel.MKL_MIN_PRODUCT:
        return None
    from ffnn.kernels import mkl_products

    return mkl_products.matmul(a, b)


def _mkl_takes(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``product`` computes a @ b by MKL."""
    if not accel.enabled or a.shape[0] * a.shape[1] * b.shape[1] < accel.MKL_MIN_PRODUCT:
        return False
    from ffnn.kernels import mkl_products

    return mkl_products.operands(a, b) is not None


TRANSPOSED_ROWS, TRANSPOSED_WIDTH_RATIO, TRANSPOSED_FROM = 32, 16, 1 << 20
"""A forward x Wᵀ of 2 to ``TRANSPOSED_ROWS`` rows onto at least ``TRANSPOSED_WIDTH_RATIO``
times as many outputs, of at least ``TRANSPOSED_FROM`` multiply-adds, is computed as
(W xᵀ)ᵀ where the BLAS gains from it (``transposed_forward``)."""


def transposed_forward(m: int, k: int, n: int) -> bool:
    """Whether a forward x Wᵀ (x [m, k], W [n, k]) of few rows onto many outputs is computed
    as (W xᵀ)ᵀ, where ``ffnn.kernels.native.transposes_forward`` says the BLAS gains from it.
    OpenBLAS's AVX-512 sgemm takes the product with the many outputs as its rows faster
    (Intel Xeon, 2 threads, x Wᵀ against W xᵀ then the copy into [m, n]: [16, 784] ·
    [784, 1024] 395-580 µs against 215-295, [32, 784] · [784, 1024] 495-760 against
    325-570, [32, 256] · [256, 512] 129-130 against 102-112; from 64 rows it is a draw or
    a loss, and dL/dx = g W gains nothing)."""
    return 2 <= m <= TRANSPOSED_ROWS and n >= TRANSPOSED_WIDTH_RATIO * m and \
        m * k * n >= TRANSPOSED_FROM


def _transposed_forward_here(x: np.ndarray, wt: np.ndarray) -> bool:
    """``transposed_forward`` for x [m, k] and wt = Wᵀ (W C-contiguous, as x), on a BLAS
    that gains from it."""
    if not (transposed_forward(x.shape[0], x.shape[1], wt.shape[1]) and
            x.flags.c_contiguous and wt.T.flags.c_contiguous and wt.dtype == x.dtype):
        return False
    from ffnn.kernels import native

    return bool(native.blas_functions(x.dtype)[native.TRANSPOSED_FORWARD])


def forward_transposed(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x Wᵀ [m, n] for x [m, k], W [n, k] (C-contiguous), computed as W xᵀ [n, m] (the
    call the compiled chains make) and copied transposed (``ffnn.kernels.transpose``)."""
    from ffnn.kernels import transpose

    product_t = weight @ x.T
    out = np.empty((x.shape[0], weight.shape[0]), x.dtype)
    transpose.into(product_t, out)
    return out


ONE_THREAD_ROWS, ONE_THREAD_WIDTH_RATIO = 64, 8
ONE_THREAD_FROM, ONE_THREAD_BYTES = 1 << 19, 1 << 22
"""A product [m, k] · [k, n] of at most ``ONE_THREAD_ROWS`` rows, n at most
``ONE_THREAD_WIDTH_RATIO`` · m, from ``ONE_THREAD_FROM`` multiply-adds (where OpenBLAS starts
to split a product over its threads) to ``ONE_THREAD_BYTES`` of them times the itemsize
(``one_thread_product``)."""


def one_thread_product(m: int, k: int, n: int, itemsize: int) -> bool:
    """Whether ``product`` computes [m, k] · [k, n] on one BLAS thread: OpenBLAS splits a
    product of 2¹⁹ multiply-adds or more over its threads along the rows of the result, and
    on a few rows, their work a few µs, the split costs more than it gains (AMD EPYC, 2
    threads: [64, 64] · [64, 128] float32 21.7 -> 15.0 µs, float64 34.5 -> 28.3; [32, 128]
    · [128, 256] float32 1.07-1.11x; a wider result, [16, 256] · [256, 256], or float64 of
    2²⁰ multiply-adds gains from the second thread). In float32 the threaded path may round
    a product's sums differently (the same precision)."""
    work = m * k * n
    return m <= ONE_THREAD_ROWS and n <= ONE_THREAD_WIDTH_RATIO * m and \
        ONE_THREAD_FROM <= work and work * itemsize <= ONE_THREAD_BYTES


NARROW_PRODUCT_WIDTH, NARROW_PRODUCT_ROWS = 32, 1024
"""A weight gradient gᵀ x of at most this many outputs and inputs, summed over at least so
many rows, is narrow (``narrow_reduction``)."""
ROWS_SPLIT_MIN, ROWS_SPLIT_RATIO = 1 << 20, 4
"""A weight gradient of at least so many multiply-adds, over at least ``ROWS_SPLIT_RATIO``
times as many rows as it has outputs and inputs each, is summed by parts of rows where MKL
does not take it (``sums_by_rows``)."""
ONE_ROW_PARTS_ROWS, ONE_ROW_PARTS_MIN, NARROW_PARTS_MIN = 512, 1 << 18, 1 << 16
"""A sum into one row (a bias gradient 1ᵀ g, a one-output layer's gᵀ x) over at least
``ONE_ROW_PARTS_ROWS`` rows of ``ONE_ROW_PARTS_MIN`` elements or more, and a narrow one
reading ``NARROW_PARTS_MIN`` elements or more, are summed by parts of rows
(``sums_by_rows``)."""


def narrow_reduction(rows: int, out_f: int, in_f: int) -> bool:
    """Whether a sum over ``rows`` rows into [out_f, in_f] is narrow: summed by parts of
    rows (``sums_by_rows``), else on one BLAS thread, where OpenBLAS would split its few
    outputs ([2048, 8]ᵀ[2048, 32] 39 -> 23 µs)."""
    return rows >= NARROW_PRODUCT_ROWS and max(out_f, in_f) <= NARROW_PRODUCT_WIDTH


def splits_rows(rows: int, out_f: int, in_f: int) -> bool:
    """Whether a weight gradient gᵀ x [out_f, in_f] over ``rows`` rows is large and tall
    enough to sum by parts of rows where MKL does not take it (``sums_by_rows``)."""
    return (out_f > 1 and rows >= ROWS_SPLIT_RATIO * max(out_f, in_f)
            and rows * out_f * in_f >= ROWS_SPLIT_MIN)


def sums_by_rows(rows: int, out_f: int, in_f: int, mkl_takes: bool) -> bool:
    """Whether a sum over ``rows`` rows into [out_f, in_f] (gᵀ x; 1ᵀ g with out_f = 1) runs
    by parts of rows, one part per thread (``accel.product_over_rows``): a large sum into one
    row, a narrow one (``narrow_reduction``) of ``NARROW_PARTS_MIN`` elements, or a tall one
    that MKL (``mkl_takes``) does not take.

    OpenBLAS splits a sum over rows along its few outputs, each thread reading all the
    rows, or not at all (gemv into a narrow row); a part of the rows each halves what each
    thread reads. Intel Xeon, 2 threads, float32, the eager op, one thread (or OpenBLAS's
    split) against parts (µs): [65536, 8]ᵀ[65536, 32] 353 -> 166 (MKL on one thread),
    [4096, 32]ᵀ[4096, 32] 46 -> 29, [2048, 32]ᵀ[2048, 8] 19 -> 13, [16384, 2]ᵀ[16384, 16]
    23 -> 11; 1ᵀ g [65536, 32] 268 -> 133, [8192, 200] 186 -> 94, [2048, 256] 21 -> 15;
    a one-output layer's [512, 1]ᵀ[512, 1000] 20 -> 16, [4096, 1]ᵀ[4096, 256] 71 -> 37.
    Smaller sums lose to the parts' start (~5 µs from Python: 1ᵀ g [256, 512] 4.7 -> 5.4,
    [1024, 1]ᵀ[1024, 32] 5.3 -> 7.1). MKL's own split of a larger gᵀ x (by ranges of
    outputs) is as quick as parts of rows (0.8-1.1x), so it stays MKL's."""
    if out_f == 1:
        return rows >= ONE_ROW_PARTS_ROWS and rows * in_f >= ONE_ROW_PARTS_MIN
    widest = max(out_f, in_f)  # compiled too (``ffnn.compiler``): the two rules written out
    if rows >= NARROW_PRODUCT_ROWS and widest <= NARROW_PRODUCT_WIDTH:  # narrow_reduction
        return rows * (out_f + in_f) >= NARROW_PARTS_MIN
    return (rows >= ROWS_SPLIT_RATIO * widest and rows * out_f * in_f >= ROWS_SPLIT_MIN
            and not mkl_takes)  # splits_rows (out_f > 1 here)


def weight_product(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dL/dW = gᵀ x for g [n, out], x [n, in]: a sum over the batch, which OpenBLAS splits
    along the outputs, each thread packing all n rows of the other operand, so that many
    rows and few outputs gain little from a second thread or lose. So it runs by parts of
    rows, one per thread, the parts' products added in order (``sums_by_rows``,
    ``accel.product_over_rows``; AMD EPYC, 2 threads, float32: [8192, 50]ᵀ[8192, 50] 576 ->
    356 µs, [8192, 50]ᵀ[8192, 1000] 7.8 -> 6.3 ms, [16384, 16]ᵀ[16384, 30] 529 -> 185;
    torch 449, 9480, 299), else a narrow one on one BLAS thread where it cannot split.

    Each changes the rounding of the sums (not their precision: float32 sums of products
    either way), the same for the same shapes and threads."""
    n, out_f = g.shape
    in_f = x.shape[1]
    if type(g) is np.ndarray and type(x) is np.ndarray:
        # MKL is asked only where its answer counts (a tall sum): the question is a call
        if sums_by_rows(n, out_f, in_f, splits_rows(n, out_f, in_f) and _mkl_takes(g.T, x)):
            found = accel.product_over_rows(g, x)
            if found is not None:
                return found
        if narrow_reduction(n, out_f, in_f):
            return on_one_thread(product, g.T, x)
    return product(g.T, x)


def column_sums(g: np.ndarray) -> np.ndarray:
    """Σ_rows g for g [n, k]: ``1ᵀ g``, a product with a column of ones (3-5× NumPy's
    ``sum(axis=0)``, a strided reduction, on a batch's gradient): by parts of rows where
    ``sums_by_rows`` says so (``accel.product_over_rows``: [100000, 8] 36 µs), else one
    BLAS matrix-vector product (on one thread for narrow rows, where OpenBLAS's own split
    loses: [100000, 8] 330 -> 95 µs); NumPy's sum for other arrays (CuPy, integer,
    empty)."""
    if type(g) is not np.ndarray or g.dtype.char not in "fd" or g.shape[0] == 0:
        return g.sum(axis=0)
    key = (g.shape[0], g.dtype.char)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(g.shape[0], g.dtype)
    if sums_by_rows(g.shape[0], 1, g.shape[1], False):
        found = accel.product_over_rows(ones.reshape(-1, 1), g)
        if found is not None:
            return found.reshape(g.shape[1])
    if narrow_reduction(g.shape[0], 1, g.shape[1]):
        return on_one_thread(np.dot, ones, g)
    return np.dot(ones, g)


_ONES: dict[tuple[int, str], np.ndarray] = {}
"""Vectors of ones by (length, dtype) for ``column_sums``."""
