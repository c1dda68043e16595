"""glibc's allocator, set once for arrays that come and go every training step.

A training step allocates its activations and gradients afresh and frees them at the end.
glibc's defaults adapt: an array above the mmap threshold is mapped and unmapped each time,
and free memory at the top of the heap is returned to the system once it exceeds the trim
threshold, then faulted in again, page by page, in the next step. Which of the two happens
depends on the order of earlier allocations. A 256-512-512-10 float32 MLP with layer norm
took ~1,070 page faults and 13-14 ms per step alone in its process, 9 ms after these
settings (no faults); the same network without the norms took no faults either way.

``tune()`` (run by ``import ffnn`` on Linux with glibc) fixes both thresholds at glibc's own
adaptive maximum: arrays below 32 MiB reuse heap memory, and up to 128 MiB of free heap is
kept. ``align_arrays()`` (run next) gives NumPy an allocator that starts every array on a
64-byte boundary (``ffnn._aligned_arrays``: glibc's 16-byte alignment let same-sized arrays
lie a few bytes apart modulo 4 KiB, and loops over them stall) and keeps freed blocks of 32
MiB and more, which glibc would unmap, for the next array of their size. ``FFNN_MALLOC_TUNING=0``
leaves both allocators as they are.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
"""``mallopt`` parameter numbers (glibc's malloc.h)."""
MMAP_THRESHOLD = 32 << 20
"""Bytes from which an allocation is mapped on its own (glibc's adaptive maximum on 64-bit)."""
TRIM_THRESHOLD = 128 << 20
"""Free bytes at the top of the heap kept before any is returned to the system."""

tuned = False
"""Whether ``tune()`` set the thresholds in this process."""
aligned = False
"""Whether ``align_arrays()`` made NumPy's array data 64-byte aligned in this process."""


def tune() -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring); True when set.
    Nothing on other platforms or C libraries, or with ``FFNN_MALLOC_TUNING=0``."""
    global tuned
    if tuned or os.environ.get("FFNN_MALLOC_TUNING", "1") == "0" or \
            not sys.platform.startswith("linux"):
        return tuned
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: their own rules
            return False
        tuned = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and \
            bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False
    return tuned


def align_arrays() -> bool:
    """Install ``ffnn._aligned_arrays``'s allocator as NumPy's (for the calling context: the
    main thread's when ``import ffnn`` runs there); True when in use. Only where ``tune()``
    ran (Linux, glibc, not switched off) and the compiled kernels are on (``ffnn.accel``:
    numba, whose compiler llvmlite compiles the allocator, is loaded by the first step
    anyway; ``FFNN_ACCEL=0`` keeps NumPy without LLVM)."""
    global aligned
    from ffnn import accel

    if aligned or not tuned or not accel.enabled:  # numba there, and with it llvmlite
        return aligned
    from ffnn import _aligned_arrays

    try:
        aligned = _aligned_arrays.install()
    except Exception:  # an llvmlite or NumPy unlike ours: arrays keep NumPy's allocator
        return False
    return aligned
