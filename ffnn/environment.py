"""Process-wide settings with torch's names: default dtype and device, thread count.

``set_default_tensor_type(ffnn.DoubleTensor)`` (torch's older spelling) sets the default
floating dtype; ``set_default_device('cpu')`` is accepted (a GPU raises, see ``ffnn.device``);
``set_num_threads(n)`` limits the BLAS threads NumPy uses, through threadpoolctl when it is
installed, and ``get_num_threads()`` reports the number set; ``set_flush_denormal(mode)``
flushes subnormal floats to zero on the calling thread.
"""

from __future__ import annotations

import os

from ffnn import dtypes
from ffnn.device import check_device

_num_threads: int | None = None
_thread_limit = None  # threadpoolctl's limiter, kept alive so its limit holds


def set_default_tensor_type(t) -> None:
    """Set the default floating dtype from a tensor type (``ffnn.DoubleTensor`` or
    ``'torch.DoubleTensor'``). TypeError for a non-floating type."""
    dtype = dtypes.to_dtype(t)
    if dtype.kind != "f":
        raise TypeError(f"set_default_tensor_type: only floating-point types are supported as "
                        f"the default type. Received: {t!r}")
    dtypes.set_default_dtype(dtype)


def set_default_device(device) -> None:
    """Accept ``'cpu'`` / ``ffnn.device('cpu')`` / None: tensors already live there."""
    check_device(device, "set_default_device")


def get_default_device():
    from ffnn.device import CPU

    return CPU


def set_num_threads(n: int) -> None:
    """Use at most ``n`` threads for BLAS (matrix products)."""
    global _num_threads, _thread_limit
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer. Received: {n!r}")
    _num_threads = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _thread_limit = threadpool_limits(limits=n, user_api="blas")


def get_num_threads() -> int:
    return _num_threads if _num_threads is not None else (os.cpu_count() or 1)


def set_flush_denormal(mode: bool) -> bool:
    """Flush subnormal floats (below 1.18e-38 in float32) to zero on the calling thread
    (``mode`` True: x86's FTZ and DAZ bits, for NumPy's loops too, as
    ``torch.set_flush_denormal``) or compute them exactly (False, the default). Returns
    whether this machine can (x86-64, numba installed). The optimizers' compiled updates
    flush in any case (``ffnn.kernels.denormals``). TypeError for a mode not a bool."""
    if not isinstance(mode, bool):
        raise TypeError(f"set_flush_denormal expects a bool. Received: {type(mode).__name__} "
                        f"{mode!r}")
    try:
        from ffnn.kernels import denormals
    except ImportError:  # numba absent: nothing sets the register
        return False
    return denormals.set_calling_thread(mode)
