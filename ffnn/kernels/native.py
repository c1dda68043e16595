"""Calls by address from compiled code: NumPy's own BLAS, and C entry points of generated
kernels (``ElementwiseKernel.entry``).

``gemm_addresses()`` finds the ``cblas_sgemm`` / ``cblas_dgemm`` of the OpenBLAS that NumPy
itself links (the ``scipy-openblas64`` of NumPy's wheels, 64-bit integers), so a compiled
step computes its products with the very library, kernels and thread settings of
``numpy.matmul`` (``threadpoolctl`` limits apply). The intrinsics below call an address
passed as an argument, so the functions using them stay cacheable on disk.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
"""CBLAS's enums: ``CblasRowMajor``, ``CblasNoTrans``, ``CblasTrans``."""

_GEMM_SYMBOLS = (("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_"),
                 ("cblas_sgemm64_", "cblas_dgemm64_"))
"""ILP64 CBLAS names (64-bit dimensions), as NumPy's wheels and OpenBLAS builds name them."""


@functools.cache
def numpy_openblas() -> tuple[ctypes.CDLL, str] | None:
    """(the OpenBLAS NumPy's wheels bundle, the prefix of its symbols: "scipy_" or ""),
    or None where NumPy links another BLAS."""
    root = os.path.dirname(np.__file__)
    candidates = []
    for folder in (os.path.join(root, os.pardir, "numpy.libs"), os.path.join(root, ".dylibs")):
        candidates += sorted(glob.glob(os.path.join(folder, "*openblas*")))
    for path in candidates:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for single, double in _GEMM_SYMBOLS:
            if hasattr(library, single) and hasattr(library, double):
                return library, single[:single.index("cblas")]
    return None


def symbol_address(library: ctypes.CDLL, name: str) -> int | None:
    """The address of ``name`` in ``library``, or None where it has no such symbol."""
    if not hasattr(library, name):
        return None
    return ctypes.cast(getattr(library, name), ctypes.c_void_p).value


@functools.cache
def gemm_addresses() -> tuple[int, int] | None:
    """(cblas_sgemm, cblas_dgemm) addresses of NumPy's BLAS, or None where NumPy links
    another BLAS (then compiled steps use their own loops)."""
    found = numpy_openblas()
    if found is None:
        return None
    library, _ = found
    for single, double in _GEMM_SYMBOLS:
        if hasattr(library, single) and hasattr(library, double):
            return symbol_address(library, single), symbol_address(library, double)
    return None


@functools.cache
def thread_functions() -> tuple[ctypes._CFuncPtr, ctypes._CFuncPtr] | None:
    """(``openblas_set_num_threads``, ``openblas_get_num_threads``) of NumPy's OpenBLAS as
    ctypes functions (``void(int)``, ``int(void)``), or None where NumPy links another BLAS."""
    found = numpy_openblas()
    if found is None:
        return None
    library, prefix = found
    names = (f"{prefix}openblas_set_num_threads64_", f"{prefix}openblas_get_num_threads64_")
    if not all(hasattr(library, name) for name in names):
        return None
    setter, getter = (getattr(library, name) for name in names)
    setter.argtypes, setter.restype, getter.argtypes, getter.restype = \
        [ctypes.c_int], None, [], ctypes.c_int
    return setter, getter


(GEMM, SET_THREADS, GET_THREADS, GEMV, ROWS_PART, NORM_PART, LAYER_NORM_PART,
 BIAS_ROWS_PART, TRANSPOSED_FORWARD, OUTER_ROWS_PART, CROSS_ENTROPY_PART,
 SQUARED_ERROR_PART, MKL) = range(13)
"""Entries of ``blas_functions``'s row (from ``MKL`` on: ``mkl_products.functions``)."""
ROW_SIZE = MKL + 6
AVX512_CORES = ("skylakex", "cooperlake", "sapphirerapids")
"""OpenBLAS's cores (``openblas_get_corename``) whose sgemm a forward of few rows onto many
outputs runs faster transposed (``ffnn.ops.matrix.transposed_forward``)."""


@functools.cache
def openblas_core() -> str:
    """The core NumPy's OpenBLAS chose for this CPU (``openblas_get_corename``, lower case),
    or "" where it cannot tell."""
    found = numpy_openblas()
    if found is None:
        return ""
    library, prefix = found
    name = f"{prefix}openblas_get_corename{'64_' if prefix else ''}"
    if not hasattr(library, name):
        return ""
    function = getattr(library, name)
    function.restype = ctypes.c_char_p
    return (function() or b"").decode(errors="replace").strip().lower()


def transposes_forward(dtype: np.dtype) -> bool:
    """Whether NumPy's BLAS computes a forward of few rows onto many outputs faster as
    (W xᵀ)ᵀ for ``dtype``: float32 on OpenBLAS's AVX-512 cores (Intel Xeon, float32,
    [32, 784] · [784, 1024]: 670-700 µs direct, 410-430 transposed; float64 loses, 1.1x)."""
    return np.dtype(dtype) == np.float32 and openblas_core() in AVX512_CORES


@functools.cache
def _blas_functions(char: str, norms: bool) -> np.ndarray:
    row = _blas_row(char, norms)
    row.flags.writeable = False
    return row


def blas_functions(dtype: np.dtype, norms: bool = False) -> np.ndarray:
    """The addresses compiled code calls NumPy's BLAS through (int64 [``ROW_SIZE``],
    read-only, 0 where there is none): its gemm and gemv for ``dtype`` (float32: sgemm,
    sgemv; float64: dgemm, dgemv), its functions that set and get OpenBLAS's thread count,
    and the entry points of the parts run on its threads: of a product summed by parts of
    rows (``ffnn.kernels.row_parts``), of a bias written into rows
    (``ffnn.kernels.bias_rows``), with ``norms`` of a norm's pass (``ffnn.kernels.norm_parts``)
    and of layer norm's forward on a range of rows (``ffnn._kernels.layer_norm_part_*``;
    without, 0: those compile only for a network that has a norm); 1 where a forward of few
    rows is computed transposed (``transposes_forward``); the entry points of an outer
    product's rows (``ffnn.kernels.outer_rows``) and of cross-entropy's rows
    (``ffnn._kernels.cross_entropy_part_*``); last, from ``MKL`` on, what computes products
    by Intel MKL where it is used (``ffnn.kernels.mkl_products.functions``: zeros where
    not). Each entry point is of ``dtype`` alone (``ffnn.kernels.first_use``)."""
    return _blas_functions(np.dtype(dtype).char, bool(norms))


def _blas_row(char: str, norms: bool) -> np.ndarray:
    """``blas_functions`` for the dtype of type code ``char``, computed."""
    row = np.zeros(ROW_SIZE, np.int64)
    gemm = gemm_addresses()
    threads = thread_functions()
    if gemm is not None:
        double = char == "d"
        library, prefix = numpy_openblas()
        row[GEMM] = gemm[double]
        row[GEMV] = symbol_address(library, f"{prefix}cblas_{'d' if double else 's'}gemv64_") or 0
    if threads is not None:
        row[SET_THREADS], row[GET_THREADS] = (ctypes.cast(f, ctypes.c_void_p).value
                                              for f in threads)
    if row[GEMM] != 0 and row[SET_THREADS] != 0:
        _part_entries(row, np.dtype(char), norms)
    if row[GEMM] != 0:
        row[TRANSPOSED_FORWARD] = int(transposes_forward(np.dtype(char)) and row[MKL] == 0)
    return row


def _part_entries(row: np.ndarray, dtype: np.dtype, norms: bool) -> None:
    """The entry points of ``blas_functions``'s parts into ``row`` (compiled here: only where
    usable, and only those of ``dtype``)."""
    from ffnn import _kernels
    from ffnn.kernels import bias_rows, mkl_products, norm_parts, outer_rows, row_parts
    from ffnn.kernels.first_use import entry_point

    row[ROWS_PART] = entry_point(row_parts, "part", dtype)
    if norms:
        row[NORM_PART] = entry_point(norm_parts, "part", dtype)
        row[LAYER_NORM_PART] = entry_point(_kernels, "layer_norm_part", dtype)
    row[BIAS_ROWS_PART] = entry_point(bias_rows, "part", dtype)
    row[OUTER_ROWS_PART] = entry_point(outer_rows, "part", dtype)
    row[CROSS_ENTROPY_PART] = entry_point(_kernels, "cross_entropy_part", dtype)
    row[SQUARED_ERROR_PART] = entry_point(_kernels, "squared_blocks_part", dtype)
    row[MKL:] = mkl_products.functions(dtype)


@intrinsic
def call_gemv(typingctx, address, trans, m, n, alpha, a, lda, x, incx, beta, y,
              incy):  # pragma: no cover - compiled
    """``cblas_?gemv(RowMajor, trans, m, n, alpha, a, lda, x, incx, beta, y, incy)`` at
    ``address``, with 64-bit sizes; ``a``/``x``/``y`` are addresses, ``alpha`` and ``beta``
    of the vectors' float type (float32: sgemv, float64: dgemv)."""
    if alpha != beta or alpha not in (types.float32, types.float64):
        return None
    signature = types.void(address, trans, m, n, alpha, a, lda, x, incx, beta, y, incy)

    def codegen(context, builder, signature, args):
        i32, i64, i8p = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
        real = ir.FloatType() if signature.args[4] == types.float32 else ir.DoubleType()
        function_type = ir.FunctionType(ir.VoidType(), [i32, i32, i64, i64, real, i8p, i64,
                                                        i8p, i64, real, i8p, i64])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        (_, trans, m, n, alpha, a, lda, x, incx, beta, y, incy) = args
        builder.call(function, [ir.Constant(i32, ROW_MAJOR), builder.trunc(trans, i32), m, n,
                                alpha, builder.inttoptr(a, i8p), lda, builder.inttoptr(x, i8p),
                                incx, beta, builder.inttoptr(y, i8p), incy])
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def set_threads(typingctx, address, count):  # pragma: no cover - compiled
    """Call ``void openblas_set_num_threads(int count)`` at ``address``."""
    signature = types.void(address, count)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        function = builder.inttoptr(args[0], ir.FunctionType(ir.VoidType(), [i32]).as_pointer())
        builder.call(function, [builder.trunc(args[1], i32) if args[1].type.width > 32
                                else args[1]])
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def get_threads(typingctx, address):  # pragma: no cover - compiled
    """``int openblas_get_num_threads()`` at ``address``, as an int64."""
    signature = types.int64(address)

    def codegen(context, builder, signature, args):
        i32, i64 = ir.IntType(32), ir.IntType(64)
        function = builder.inttoptr(args[0], ir.FunctionType(i32, []).as_pointer())
        return builder.sext(builder.call(function, []), i64)

    return signature, codegen


@intrinsic
def address_as_pointer(typingctx, address, kind):  # pragma: no cover - compiled
    """The integer ``address`` as a pointer to ``kind`` (a NumPy scalar type, e.g.
    ``float32`` or ``bool_``, or an array: to its dtype), for ``numba.carray``."""
    if isinstance(kind, types.NumberClass):
        dtype = kind.instance_type
    elif isinstance(kind, types.Array):
        dtype = kind.dtype
    else:
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

    return types.CPointer(dtype)(address, kind), codegen


@intrinsic
def call_entry(typingctx, address, n, a0, a1, a2, a3, a4, a5, scalars):  # pragma: no cover
    """Call the C function at ``address`` as ``void f(int64 n, int64 a0, ..., int64 a5,
    int64 scalars)`` (the form of ``ElementwiseKernel.entry``)."""
    signature = types.void(address, n, a0, a1, a2, a3, a4, a5, scalars)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        function_type = ir.FunctionType(ir.VoidType(), [i64] * 8)
        function = builder.inttoptr(args[0], function_type.as_pointer())
        builder.call(function, [builder.sext(a, i64) if a.type.width < 64 else a
                                for a in args[1:]])
        return context.get_dummy_value()

    return signature, codegen


@intrinsic
def call_gemm(typingctx, address, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
              c, ldc):  # pragma: no cover - compiled
    """``cblas_?gemm(RowMajor, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
    ldc)`` at ``address``, with 64-bit dimensions; ``a``/``b``/``c`` are addresses, ``alpha``
    and ``beta`` of the product's float type (float32: sgemm, float64: dgemm)."""
    if alpha != beta or alpha not in (types.float32, types.float64):
        return None
    signature = types.void(address, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,
                           c, ldc)

    def codegen(context, builder, signature, args):
        i32, i64, i8p = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
        real = ir.FloatType() if signature.args[6] == types.float32 else ir.DoubleType()
        function_type = ir.FunctionType(ir.VoidType(), [i32, i32, i32, i64, i64, i64, real,
                                                        i8p, i64, i8p, i64, real, i8p, i64])
        function = builder.inttoptr(args[0], function_type.as_pointer())
        (_, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) = args

        def enum(value):
            return builder.trunc(value, i32)

        builder.call(function, [ir.Constant(i32, ROW_MAJOR), enum(trans_a), enum(trans_b), m,
                                n, k, alpha, builder.inttoptr(a, i8p), lda,
                                builder.inttoptr(b, i8p), ldb, beta, builder.inttoptr(c, i8p),
                                ldc])
        return context.get_dummy_value()

    return signature, codegen
