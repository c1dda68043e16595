"""Intel MKL's matrix products, by parts on OpenBLAS's threads, where the CPU is Intel.

On an Intel Xeon (AVX-512, 2 cores) MKL's sgemm computes ~1.5x what OpenBLAS's does on one
thread, and torch's products (MKL) are 1.2-1.3x NumPy's (OpenBLAS) on two. With the ``mkl``
wheel installed (``pip install ffnn[mkl]``, in ``ffnn[all]``) and an Intel CPU, the
products of the compiled chains and of the eager ``ffnn.ops.matrix.product`` are MKL's:

- MKL runs with its sequential threading layer, so it starts no thread pool of its own (an
  OpenMP pool spinning beside OpenBLAS's would halve both on two cores);
- a product of at least ``SPLIT_FROM`` multiply-adds is cut into ranges of its result's
  columns (of its rows where it has more rows than columns), one per OpenBLAS thread, each
  range one MKL call on its thread (``blas_split`` runs the parts, as for the element-wise
  kernels);
- a · b whose b's rows lie a multiple of 8 KiB apart (dL/dx = g W of a layer of 4096
  float32 inputs) stays OpenBLAS's for 9 to 255 rows (``CONFLICT_ROWS``): MKL's loses
  there.

Intel Xeon, float32, 2 threads, OpenBLAS against MKL by parts (ms): x Wᵀ [256, 512] ·
[512, 512] 0.76 → 0.58, [512, 1000] · [1000, 1000] 5.5 → 4.4, [32, 4096] · [4096, 4096]
9.1 (computed transposed) → 7.3; gᵀ x [128, 512]ᵀ[128, 3072] 2.1 → 1.6. Each element is one
MKL call's, whichever range it falls in, and MKL's results do not depend on the operands'
alignment: the same for the eager and the compiled step (tests). They differ from
OpenBLAS's in the rounding of the sums (the same precision).

``FFNN_MKL=0`` keeps OpenBLAS everywhere, ``FFNN_MKL=1`` takes MKL on any x86-64 CPU (on
AMD's, MKL's kernels are not tuned: not the default).
"""

from __future__ import annotations

import ctypes
import functools
import glob
import importlib.metadata
import os
import sys

import numba
import numpy as np
from numba import carray

from ffnn.accel import MKL_MIN_PRODUCT
from ffnn.kernels import blas_split, native, numba_cache
from ffnn.kernels.first_use import entry_point, on_first_use
from ffnn.kernels.native import (
    GET_THREADS,
    MKL,
    NO_TRANS,
    TRANS,
    address_as_pointer,
    call_gemm,
    get_threads,
    symbol_address,
)

numba_cache.install()  # before the decorators: stamps the cache by every kernel source

SEQUENTIAL = 1
"""``MKL_THREADING_SEQUENTIAL`` of ``mkl_service.h``."""
SPLIT_FROM = 1 << 19
"""Multiply-adds from which a product is split over the threads (below, one MKL call on
the calling thread: [64, 64] · [64, 128] takes ~19 µs either way)."""
CONFLICT_ROWS, CONFLICT_STRIDE = (9, 255), 8192
"""a · b (neither transposed) of 9 to 255 rows, b's rows a multiple of 8 KiB apart (4096
float32 columns, 2048 float64), stays OpenBLAS's: there MKL's sequential kernel reads b's
rows into the same cache sets, float32 [64, 2048] · [2048, 4096] 11.8 ms by parts against
OpenBLAS's 6.8, [128, 4096] · [4096, 4096] 35 against 19; 4000 columns 4.8 against 6.4,
from 256 rows 30.5 against 34.2, up to 8 rows 2.3 against 4.5."""
COLUMN_UNIT, ROW_UNIT = 16, 4
"""A part's range of columns is a multiple of 16 (one AVX-512 register of float32), of
rows a multiple of 4, but for the last; of 8 columns where that makes the largest part
smaller (``column_unit``)."""
GEMM, PART, SPLIT, CHUNK, PARTS, ITEMSIZE = range(6)
"""Entries of ``functions``'s row: MKL's gemm, this module's part, OpenBLAS's split routine
and ``blas_split``'s chunk, the most parts a product is cut into, the float's size."""
SCALARS = 13
"""A part's scalars: gemm, trans_a, trans_b, m, n, k, lda, ldb, ldc, along columns, unit,
alpha, beta."""


def requested(environ=os.environ, cpuinfo: str | None = None) -> bool:
    """Whether MKL should compute the products: ``FFNN_MKL`` 1 or 0 where set, else where
    the CPU is Intel's (``vendor_id`` GenuineIntel in ``/proc/cpuinfo``)."""
    setting = environ.get("FFNN_MKL", "").strip()
    if setting in ("0", "1"):
        return setting == "1"
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as file:
                cpuinfo = file.read(1 << 14)
        except OSError:
            return False
    return any(line.split(":", 1)[-1].strip() == "GenuineIntel"
               for line in cpuinfo.splitlines() if line.startswith("vendor_id"))


def library_path() -> str | None:
    """Where the ``mkl`` wheel put ``libmkl_rt`` (its files, or the environment's lib
    folder), or None where it is not installed."""
    try:
        files = importlib.metadata.distribution("mkl").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if os.path.basename(str(file)).startswith("libmkl_rt.so"):
            path = os.path.realpath(str(file.locate()))
            if os.path.exists(path):
                return path
    found = sorted(glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so*")))
    return found[0] if found else None


@functools.cache
def gemm_addresses() -> tuple[int, int] | None:
    """(cblas_sgemm, cblas_dgemm) of MKL with 64-bit sizes (``load``) where it is requested
    and installed, else None."""
    path = library_path() if requested() else None
    return None if path is None else load(path)


def load(path: str) -> tuple[int, int] | None:
    """(cblas_sgemm, cblas_dgemm) of the ``libmkl_rt`` at ``path``, loaded with its
    sequential layer; None where it does not load or is not on that layer (another part of
    the process chose another first)."""
    try:
        library = ctypes.CDLL(path)
    except OSError:
        return None
    layer = getattr(library, "MKL_Set_Threading_Layer", None)
    if layer is None:
        return None
    layer.argtypes, layer.restype = [ctypes.c_int], ctypes.c_int
    if layer(SEQUENTIAL) != SEQUENTIAL:
        return None
    single, double = (symbol_address(library, name) for name in ("cblas_sgemm_64",
                                                                   "cblas_dgemm_64"))
    return None if single is None or double is None else (single, double)


@functools.cache
def _functions(char: str) -> np.ndarray:
    row = np.zeros(6, np.int64)
    found = gemm_addresses()
    if found is not None:
        double = char == "d"
        row[GEMM], row[ITEMSIZE] = found[double], 8 if double else 4
        row[PART] = entry_point(sys.modules[__name__], "part", np.dtype(char))
        splitter = blas_split.splitter()
        if splitter is not None and splitter.threads() > 1:
            row[SPLIT], row[CHUNK] = splitter.split_address, splitter.chunk_address
            row[PARTS] = splitter.threads()
    row.flags.writeable = False
    return row


def functions(dtype: np.dtype) -> np.ndarray:
    """What compiled code needs to call MKL for ``dtype`` (int64 [6], read-only; all 0
    where MKL is not used): its gemm, the part's entry point, OpenBLAS's split routine and
    ``blas_split``'s chunk (0 where nothing splits), the most parts, the item size."""
    return _functions(np.dtype(dtype).char)


def takes(trans_a: int, trans_b: int, m: int, n: int, k: int, itemsize: int) -> bool:
    """Whether MKL computes op(a) [m, k] · op(b) [k, n] (b contiguous; else OpenBLAS):
    from ``accel.MKL_MIN_PRODUCT`` multiply-adds, but for one row or column (OpenBLAS's
    gemv) and a · b whose b's rows conflict in the cache (``CONFLICT_ROWS``)."""
    if m * n * k < MKL_MIN_PRODUCT or m == 1 or n == 1:
        return False
    return not (trans_a == NO_TRANS and trans_b == NO_TRANS and
                CONFLICT_ROWS[0] <= m <= CONFLICT_ROWS[1] and
                n * itemsize % CONFLICT_STRIDE == 0)


compiled_takes = numba.njit(inline="always")(takes)
"""``takes`` for compiled callers."""


@numba.njit(cache=True, inline="always")
def parts(mkl, blas_threads, m, n, k):  # pragma: no cover - compiled
    """How many parts a product [m, k] · [k, n] is cut into: OpenBLAS's thread count now
    (``blas_threads``: its getter's address), at most ``mkl[PARTS]``, from ``SPLIT_FROM``
    multiply-adds; else 1."""
    if mkl[SPLIT] == 0 or m * n * k < SPLIT_FROM:
        return 1
    return min(get_threads(blas_threads), mkl[PARTS])


@numba.njit(cache=True, inline="always")
def _part(count, a, b, c, start, scalars, dtype):  # pragma: no cover - compiled
    """One range of ``count`` units from unit ``start`` (a, b, c at its first; the scalars
    as ``product`` wrote them), one MKL call."""
    v = carray(address_as_pointer(scalars, np.float64), SCALARS)
    gemm, trans_a, trans_b = int(v[0]), int(v[1]), int(v[2])
    m, n, k, lda, ldb, ldc = int(v[3]), int(v[4]), int(v[5]), int(v[6]), int(v[7]), int(v[8])
    along_columns, unit, alpha, beta = v[9] != 0, int(v[10]), dtype(v[11]), dtype(v[12])
    size = min(count * unit, (n if along_columns else m) - start * unit)
    rows, columns = (m, size) if along_columns else (size, n)
    call_gemm(gemm, trans_a, trans_b, rows, columns, k, alpha, a, lda, b, ldb, beta, c, ldc)


def _part_f32(count, a, b, c, start, unused, unused_too, scalars):  # pragma: no cover
    """A C entry point for ``blas_split``: ``_part`` on float32 operands."""
    _part(count, a, b, c, start, scalars, np.float32)


def _part_f64(count, a, b, c, start, unused, unused_too, scalars):  # pragma: no cover
    """``part_f32`` for float64 operands."""
    _part(count, a, b, c, start, scalars, np.float64)


@numba.njit(cache=True, inline="always")
def largest_part(n, unit, count):  # pragma: no cover - compiled
    """The most of n columns one of ``count`` parts gets in ranges of ``unit`` (OpenBLAS's
    ``blas_level1_thread`` gives the first part ⌈units/count⌉ of them)."""
    units = (n + unit - 1) // unit
    return min((units + count - 1) // count * unit, n)


@numba.njit(cache=True, inline="always")
def column_unit(n, count):  # pragma: no cover - compiled
    """``COLUMN_UNIT``, or half of it where the largest part is then smaller: 400 columns in
    ranges of 16 are 208 + 192, the first thread's 8% longer while the other waits; in
    ranges of 8, 200 + 200 (100 columns: 64 + 36 → 56 + 44). A pure function of the shape:
    a product's results (MKL's sums change with where it is cut) do not depend on when it
    runs."""
    half = COLUMN_UNIT // 2
    if largest_part(n, half, count) < largest_part(n, COLUMN_UNIT, count):
        return half
    return COLUMN_UNIT


@numba.njit(cache=True)
def product(mkl, count, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
            ldc):  # pragma: no cover - compiled
    """c [m, n] = α op(a) op(b) + β c (addresses; leading sizes in elements; ``alpha`` and
    ``beta`` of c's float type) by MKL (``mkl``: ``functions``): one call on this thread
    for ``count`` 1, else ``count`` ranges of c's columns (of its rows where m > n)
    on OpenBLAS's threads."""
    if count < 2:
        call_gemm(mkl[GEMM], trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    size = mkl[ITEMSIZE]
    along_columns = n >= m
    if along_columns:
        unit = column_unit(n, count)
        strides = (0, unit * size if trans_b == NO_TRANS else unit * ldb * size, unit * size)
    else:
        unit = ROW_UNIT
        strides = (unit * lda * size if trans_a == NO_TRANS else unit * size, 0,
                   unit * ldc * size)
    units = ((n if along_columns else m) + unit - 1) // unit
    scalars = np.array([mkl[GEMM], trans_a, trans_b, m, n, k, lda, ldb, ldc, along_columns,
                        unit, alpha, beta], np.float64)
    context = np.zeros(blas_split.CONTEXT, np.int64)
    context[blas_split.ENTRY], context[blas_split.SCALARS] = mkl[PART], scalars.ctypes.data
    at, sizes = blas_split.ARRAYS, blas_split.ITEMSIZES
    context[at], context[at + 1], context[at + 2], context[at + 3] = a, b, c, 0
    context[sizes], context[sizes + 1] = strides[0], strides[1]
    context[sizes + 2], context[sizes + 3] = strides[2], 1  # the 4th: the part's first unit
    blas_split.call_split(mkl[SPLIT], units, context.ctypes.data, mkl[CHUNK], count)


def operands(a: np.ndarray, b: np.ndarray) -> tuple | None:
    """(BLAS row, trans_a, lda, trans_b, ldb) of a @ b for a [m, k], b [k, n] of one float
    dtype, each C-contiguous or the transpose of a C-contiguous array, where MKL is used
    and ``takes`` the product; else None."""
    if a.dtype != b.dtype or a.dtype.char not in "fd":
        return None
    blas = native.blas_functions(a.dtype)
    if blas[MKL + GEMM] == 0:
        return None
    trans_a, lda = _layout(a)
    trans_b, ldb = _layout(b)
    if trans_a == 0 or trans_b == 0 or \
            not takes(trans_a, trans_b, a.shape[0], b.shape[1], a.shape[1], a.itemsize):
        return None
    return blas, trans_a, lda, trans_b, ldb


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """a @ b [m, n] by MKL where ``operands`` says it takes it, split as the compiled chains
    split it; else None, computing nothing."""
    found = operands(a, b)
    if found is None:
        return None
    blas, trans_a, lda, trans_b, ldb = found
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    _eager_product(blas, trans_a, trans_b, a, lda, b, ldb, out)
    return out


def _layout(array: np.ndarray) -> tuple[int, int]:
    """(CBLAS's transposition, leading size) of a 2-D array as a gemm operand: C-contiguous
    as it is, or the transpose of a C-contiguous one; (0, 0) for other layouts."""
    if array.flags.c_contiguous:
        return NO_TRANS, max(array.shape[1], 1)
    if array.flags.f_contiguous:
        return TRANS, max(array.shape[0], 1)
    return 0, 0


@numba.njit(cache=True)
def _eager_product(blas, trans_a, trans_b, a, lda, b, ldb, out):  # pragma: no cover
    """``product`` of a and b into out, in as many parts as the compiled chains take."""
    mkl = blas[MKL:]
    m, n = out.shape
    k = a.shape[1]
    count = parts(mkl, blas[GET_THREADS], m, n, k)
    one, zero = out.dtype.type(1), out.dtype.type(0)
    product(mkl, count, trans_a, trans_b, m, n, k, one, a.ctypes.data, lda, b.ctypes.data,
            ldb, zero, out.ctypes.data, n)


__getattr__ = on_first_use(globals(), {"part_f32": _part_f32, "part_f64": _part_f64})
"""The C entry points, compiled on first use (``ffnn.kernels.first_use``)."""
