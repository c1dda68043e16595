"""Large element-wise kernel calls split over OpenBLAS's own threads.

Between two matrix products OpenBLAS's worker threads keep spinning, waiting for the next
product (for about a tenth of a second). A thread of our own on the second core fights
them, and loses (``ffnn/accel.py``). Handing a part to OpenBLAS's worker instead costs
nothing: ``blas_level1_thread``, the routine OpenBLAS splits its own vector operations with,
cuts ``[0, n)`` into one range per thread and runs a function on each, the first on the
calling thread. Here that function is ``_chunk``: it reads an entry point and its array
addresses from a context array, moves each address to the start of its range, and calls
the entry point (``ElementwiseKernel.entry``) on that range. Every element is computed by
the same loop as unsplit, so the results are the same, bit for bit.

``blas_level1_thread`` is an internal routine of OpenBLAS, not its public API: it is used
only from OpenBLAS 0.3.27 (NumPy 2's wheels) to 0.4, only after a probe the first time it
could split shows that it splits a range as expected, and in at most as many parts as
OpenBLAS has threads now and the process has CPUs (read once in ``AFFINITY_CALLS``
calls; one: whole); anywhere else every call runs whole (``splitter()`` is None).
``FFNN_BLAS_SPLIT=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re

import numba
import numpy as np
from llvmlite import ir
from numba import carray, cfunc, types
from numba.extending import intrinsic

from ffnn.accel import PYTHON_SPLIT_MIN, SPLIT_MIN
from ffnn.kernels import numba_cache
from ffnn.kernels.native import (
    address_as_pointer,
    call_entry,
    get_threads,
    numpy_openblas,
    symbol_address,
)

numba_cache.install()  # before the decorators: stamps the cache by every kernel source

DOUBLE_MODE = 3
"""``BLAS_DOUBLE`` of OpenBLAS ≥ 0.3.27's ``common_thread.h``: ranges advance 8 bytes per
element, and the function is called with a double ``alpha`` (the legacy convention)."""
ENTRY, ARRAYS, SCALARS, ITEMSIZES = 0, 1, 7, 8
CONTEXT = 14
"""A context row: the entry point, six array addresses, the scalars' address, each
array's item size in bytes (0: unused)."""
MIN_VERSION, MAX_VERSION = (0, 3, 27), (0, 4, 0)
"""OpenBLAS versions taken (from, before): the routine's conventions as read here."""

_CHUNK = types.int32(types.int64, types.int64, types.int64, types.float64, types.int64,
                     types.int64, types.int64, types.int64, types.int64, types.int64,
                     types.int64)
"""``legacy_exec``'s call for a real double-mode routine: (m, n, k, alpha, a, lda, b, ldb,
c, ldc, sb), pointers as integers."""


@cfunc(_CHUNK, cache=True)
def _chunk(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):  # pragma: no cover - compiled
    """One range: ``a`` is its first element times 8 (the split of a null address),
    ``c`` the context row's address."""
    start = a // 8
    row = carray(address_as_pointer(c, np.int64), CONTEXT)
    call_entry(row[ENTRY], m,
               row[ARRAYS] + start * row[ITEMSIZES], row[ARRAYS + 1] + start * row[ITEMSIZES + 1],
               row[ARRAYS + 2] + start * row[ITEMSIZES + 2],
               row[ARRAYS + 3] + start * row[ITEMSIZES + 3],
               row[ARRAYS + 4] + start * row[ITEMSIZES + 4],
               row[ARRAYS + 5] + start * row[ITEMSIZES + 5], row[SCALARS])
    return 0


@intrinsic
def call_split(typingctx, address, n, context, function, threads):  # pragma: no cover
    """``blas_level1_thread(DOUBLE_MODE, n, 0, 0, alpha=context, a=NULL, lda=1, b=NULL,
    ldb=0, c=context, ldc=0, function, threads)`` at ``address``."""
    signature = types.void(address, n, context, function, threads)

    def codegen(context_, builder, signature, args):
        i32, i64, i8p = ir.IntType(32), ir.IntType(64), ir.IntType(8).as_pointer()
        function_type = ir.FunctionType(i32, [i32, i64, i64, i64, i8p, i8p, i64, i8p, i64,
                                              i8p, i64, i8p, i32])
        target = builder.inttoptr(args[0], function_type.as_pointer())
        _, size, row, routine, count = args
        row_pointer = builder.inttoptr(row, i8p)
        null = ir.Constant(i8p, None)
        zero = ir.Constant(i64, 0)
        builder.call(target, [ir.Constant(i32, DOUBLE_MODE), size, zero, zero, row_pointer,
                              null, ir.Constant(i64, 1), null, zero, row_pointer, zero,
                              builder.inttoptr(routine, i8p), builder.trunc(count, i32)])
        return context_.get_dummy_value()

    return signature, codegen


@numba.njit(error_model="numpy", cache=True, inline="always")
def run(split, context, entry, n, a0, a1, a2, a3, a4, a5, scalars):  # pragma: no cover
    """The entry point on ``n`` elements of arrays all of ``split[3]`` bytes an item: split
    over ``split[2]`` threads when ``split`` = (blas_level1_thread, ``_chunk``, threads,
    item size) says so and n >= ``SPLIT_MIN`` (``context``: a row of ``CONTEXT`` int64 to
    fill), else whole."""
    size = split[3]
    run_sized(split, context, entry, n, a0, a1, a2, a3, a4, a5, scalars,
              (size, size, size, size, size, size))


@numba.njit(error_model="numpy", cache=True, inline="always")
def run_sized(split, context, entry, n, a0, a1, a2, a3, a4, a5, scalars,
              sizes):  # pragma: no cover - compiled
    """``run`` with each array's item size in ``sizes`` (six, 0 for an unused one)."""
    if n < SPLIT_MIN:
        call_entry(entry, n, a0, a1, a2, a3, a4, a5, scalars)
    else:
        run_parts(split, context, entry, n, a0, a1, a2, a3, a4, a5, scalars, sizes)


@numba.njit(error_model="numpy", cache=True, inline="always")
def run_parts(split, context, entry, n, a0, a1, a2, a3, a4, a5, scalars,
              sizes):  # pragma: no cover - compiled
    """``run_sized`` split at any ``n`` (``sizes``: each array's bytes an item, or a row,
    for an entry point that takes ``n`` rows): whole only where ``split`` does not split."""
    if split[0] == 0 or split[2] < 2:
        call_entry(entry, n, a0, a1, a2, a3, a4, a5, scalars)
        return
    context[ENTRY] = entry
    context[ARRAYS], context[ARRAYS + 1], context[ARRAYS + 2] = a0, a1, a2
    context[ARRAYS + 3], context[ARRAYS + 4], context[ARRAYS + 5] = a3, a4, a5
    context[SCALARS] = scalars
    for j in range(6):
        context[ITEMSIZES + j] = sizes[j]
    call_split(split[0], n, context.ctypes.data, split[1], split[2])


NO_SPLIT = np.zeros(4, np.int64)
"""``run``'s ``split`` when every call runs whole."""


def split_row(largest: int, itemsize: int, minimum: int = SPLIT_MIN) -> np.ndarray:
    """``run``'s ``split`` for a compiled caller whose largest call has ``largest`` elements
    of ``itemsize`` bytes: ``NO_SPLIT`` below ``minimum`` (the smallest call it splits) or
    without a splitter, else the splitter's row (threads as now)."""
    found = splitter() if largest >= minimum else None
    return NO_SPLIT if found is None else found.row(itemsize)


AFFINITY_CALLS = 64
"""``Splitter.threads`` reads the CPUs this process may run on once in this many calls: the
read is a system call, 16 µs right after a training step's products (1.5 µs warm), and
only speed depends on it (two parts on one CPU take twice as long; one part on two, the
time of one), so a change of affinity is seen within that many calls."""


class Splitter:
    """OpenBLAS's split routine and thread count, and ``_chunk``'s address."""

    def __init__(self, split_address: int, threads_function, threads_address: int | None = None):
        """``threads_function``: OpenBLAS's ``openblas_get_num_threads`` (a callable);
        ``threads_address``: its address, where known (then called from compiled code)."""
        self.split_address, self._threads = split_address, threads_function
        self._threads_address = threads_address
        self.chunk_address = _chunk.address
        self.verified: bool | None = None  # the probe's verdict, once there were 2 threads
        self._rows: dict[tuple[int, int], np.ndarray] = {}
        self._cpus, self._cpus_age = 1, AFFINITY_CALLS  # read at the first call

    def blas_threads(self) -> int:
        """OpenBLAS's thread count now, after ``threadpoolctl`` and ``set_num_threads``
        limits: its function called from compiled code where its address is known (right
        after a step's products 2.7 µs, by ctypes 9: ctypes's code is cold then)."""
        address = self._threads_address
        return int(self._threads()) if address is None else _blas_threads(address)

    def cpus(self) -> int:
        """The CPUs this process may run on, read again every ``AFFINITY_CALLS`` calls."""
        self._cpus_age += 1
        if self._cpus_age >= AFFINITY_CALLS:
            self._cpus, self._cpus_age = _usable_cpus(), 0
        return self._cpus

    def threads(self) -> int:
        """How many parts a call may be split in now: OpenBLAS's thread count (never more:
        it has no worker for another part), read at every call, and the CPUs this process
        may run on (``cpus``); 1 where the probe, run the first time there are two or
        more, failed."""
        count = min(self.blas_threads(), self.cpus())
        if count < 2:
            return 1
        if self.verified is None:
            self.verified = _probe(self, count)
        return count if self.verified else 1

    def row(self, itemsize: int) -> np.ndarray:
        """``run``'s ``split`` argument for arrays of ``itemsize`` bytes, threads as now (one
        array per thread count and item size, made once: callers only read it)."""
        key = (self.threads(), itemsize)
        found = self._rows.get(key)
        if found is None:
            found = self._rows[key] = np.array(
                [self.split_address, self.chunk_address, *key], np.int64)
        return found


def run_arrays(entry: int, arrays: list[np.ndarray], scalars: np.ndarray, *,
               n: int | None = None, strides: list[int] | None = None,
               minimum: int = PYTHON_SPLIT_MIN, threads: int | None = None) -> bool:
    """The entry point on ``arrays`` (flat, C-contiguous, of one size, at most six; each of
    its own item size) and ``scalars`` (float64), split over OpenBLAS's threads; False,
    running nothing, when it should run whole (below ``minimum`` items, no splitter, one
    thread). ``n`` items of ``strides`` bytes in each array (default: the arrays' own size
    and item sizes; a stride 0 hands every part the array's start); ``threads``: the
    number of parts, where the caller has taken it from ``Splitter.threads`` (default:
    that, now)."""
    n = arrays[0].size if n is None else n
    found = splitter() if n >= minimum else None
    if found is not None and threads is None:
        threads = found.threads()
    threads = threads if found is not None else 1
    if threads < 2:
        return False
    context = np.zeros(CONTEXT, np.int64)
    context[ENTRY], context[SCALARS] = entry, scalars.ctypes.data
    strides = [a.itemsize for a in arrays] if strides is None else strides
    for j, (array, stride) in enumerate(zip(arrays, strides)):
        context[ARRAYS + j], context[ITEMSIZES + j] = array.ctypes.data, stride
    _call(np.array([found.split_address, found.chunk_address, threads, 0], np.int64),
          context, n)
    return True


def _usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the platform tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _version(config: bytes) -> tuple[int, ...]:
    found = re.search(rb"OpenBLAS (\d+)\.(\d+)\.(\d+)", config or b"")
    return tuple(int(part) for part in found.groups()) if found else (0,)


@functools.cache
def splitter() -> Splitter | None:
    """The splitter over NumPy's OpenBLAS, or None (see the module docstring)."""
    if os.environ.get("FFNN_BLAS_SPLIT", "1") == "0":
        return None
    found = numpy_openblas()
    if found is None:
        return None
    library, prefix = found
    suffix = "64_" if prefix else ""
    names = (f"{prefix}openblas_get_config{suffix}", f"{prefix}openblas_get_num_threads{suffix}")
    if not all(hasattr(library, name) for name in names):
        return None
    config = getattr(library, names[0])
    config.restype = ctypes.c_char_p
    split_address = symbol_address(library, "blas_level1_thread")
    if split_address is None or not MIN_VERSION <= _version(config()) < MAX_VERSION:
        return None
    threads = getattr(library, names[1])
    return Splitter(split_address, threads, ctypes.cast(threads, ctypes.c_void_p).value)


PROBE_SIZE, PROBE_ROOM = 1000 + 3, 64
"""The probe's range, and how many times that its arrays hold: a version whose parts
advance by other than 8 bytes an element (up to 64 times more) writes inside them."""


def _probe(made: Splitter, threads: int) -> bool:
    """Whether a call split in ``threads`` parts fills the first ``PROBE_SIZE`` elements of
    a float64 and a uint8 array exactly once each and nothing after them."""
    from ffnn.kernels.elementwise import ElementwiseKernel

    kernel = ElementwiseKernel("split_probe", reads=("a", "b"), writes=("a", "b"),
                               body="a = a + 1.0\nb = b + 1")
    n = PROBE_SIZE
    a, b = np.zeros(n * PROBE_ROOM), np.zeros(n * PROBE_ROOM, np.uint8)
    entry = kernel.entry(np.dtype(np.float64), {"b": np.uint8})
    row = np.array([made.split_address, made.chunk_address, threads, 0], np.int64)
    context = np.zeros(CONTEXT, np.int64)
    context[ENTRY], context[ARRAYS], context[ARRAYS + 1] = entry, a.ctypes.data, b.ctypes.data
    context[ITEMSIZES], context[ITEMSIZES + 1] = 8, 1
    _call(row, context, n)
    return bool(np.all(a[:n] == 1.0) and np.all(b[:n] == 1) and not a[n:].any() and
                not b[n:].any())


@numba.njit(cache=True)
def _blas_threads(address):  # pragma: no cover - compiled
    """``openblas_get_num_threads()`` at ``address``."""
    return get_threads(address)


@numba.njit(cache=True)
def _call(split, context, n):  # pragma: no cover - compiled
    """``call_split`` on the context row filled by the caller."""
    call_split(split[0], n, context.ctypes.data, split[1], split[2])
