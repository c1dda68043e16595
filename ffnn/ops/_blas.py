"""``single_blas_thread()``: run a block of many small matrix products with one BLAS thread;
``on_one_thread(function, *args)``: one call with NumPy's OpenBLAS on one thread.

A batched product such as attention's [N, H, L, d] @ [N, H, d, S] is N·H small GEMMs, one
BLAS call each; with several BLAS threads every call pays a thread hand-off, and on a busy
machine a descheduled helper thread stalls each of them (10-50x slower than one thread).
Big products (the Linear layers) keep every thread. Uses threadpoolctl when installed (it
comes with scikit-learn); without it this is a no-op.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util

_controller = None
_available = importlib.util.find_spec("threadpoolctl") is not None


def single_blas_thread():
    """A context manager limiting the BLAS to one thread inside it (no-op without
    threadpoolctl)."""
    global _controller, _available
    if not _available:
        return contextlib.nullcontext()
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
        except Exception:  # a broken or unusual BLAS set-up: keep the default threads
            _available = False
            return contextlib.nullcontext()
    return _controller.limit(limits=1, user_api="blas")


@functools.cache
def _openblas_threads() -> tuple | None:
    """(set, get) of the thread count of the OpenBLAS NumPy links (ctypes), or None where
    NumPy links another BLAS or numba is missing (``ffnn.kernels`` finds the library and
    needs it)."""
    try:
        from ffnn.kernels.native import thread_functions
    except ImportError:
        return None
    return thread_functions()


def on_one_thread(function, *args):
    """``function(*args)`` with NumPy's OpenBLAS limited to one thread, its thread count
    restored after (~1.5 µs; threadpoolctl's limit costs ~50 µs); plainly where NumPy
    links another BLAS. The count is OpenBLAS's global one: a product another Python thread
    runs meanwhile also runs on one thread."""
    found = _openblas_threads()
    if found is None:
        return function(*args)
    setter, getter = found
    threads = getter()
    if threads == 1:
        return function(*args)
    setter(1)
    try:
        return function(*args)
    finally:
        setter(threads)
