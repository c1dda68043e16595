"""One dispatcher for every optimizer's sibling update functions.

Each optimizer file has ``_single_tensor_<name>`` (the reference: whole-array NumPy or CuPy
passes), ``_compiled_<name>`` (the same formula as one generated ``ffnn.kernels`` loop) and,
where it pays, ``_blocked_<name>`` (the reference over cache-sized blocks, bit for bit equal
to it). Its public ``<name>_update(..., implementation="auto")`` asks ``pick`` which to run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ffnn import accel

IMPLEMENTATIONS = ("reference", "blocked", "compiled")
CHUNK = 1 << 15
"""Elements per block of a blocked update (a few cache-sized arrays)."""


def choose(arrays: tuple, scratch, *, blocked: bool, min_size: int = 1) -> str:
    """The implementation ``auto`` means for these arrays (parameter, gradient, state):
    compiled when ``ffnn.accel`` is enabled and takes them (at least ``min_size`` elements),
    else blocked (when the optimizer has it) for a large contiguous NumPy parameter, else the
    reference."""
    if accel.usable(*arrays, min_size=min_size):
        return "compiled"
    if blocked and arrays[0].size > CHUNK and blockable(arrays, scratch):
        return "blocked"
    return "reference"


def pick(name: str, implementation: str, arrays: tuple, scratch,
         variants: Mapping[str, Callable], min_size: int = 1) -> Callable:
    """The update function of ``variants`` (keys among ``IMPLEMENTATIONS``) to run.

    Raises ValueError for an unknown name, or a named implementation that cannot take the
    arrays (compiled: numba and C-contiguous float32/float64 NumPy arrays of one dtype).
    """
    if implementation == "auto":
        size = arrays[0].size
        if size < min_size and size <= CHUNK:  # small: the reference (checked first, cheaply)
            return variants["reference"]
        return variants[choose(arrays, scratch, blocked="blocked" in variants,
                               min_size=min_size)]
    if implementation not in variants:
        raise ValueError(f"{name}: implementation must be 'auto' or one of {list(variants)}. "
                         f"Received: implementation={implementation!r}")
    if implementation == "compiled" and not (accel.available and accel.compatible(*arrays)):
        raise ValueError(f"{name}: implementation='compiled' needs numba and C-contiguous "
                         "float32 or float64 NumPy arrays of one dtype")
    if implementation == "blocked" and not blockable(arrays, scratch):
        raise ValueError(f"{name}: implementation='blocked' needs C-contiguous NumPy arrays")
    return variants[implementation]


def blockable(arrays: tuple, scratch) -> bool:
    """True when every array is a C-contiguous NumPy array (blocks are flat slices)."""
    return all(type(a) is np.ndarray and a.flags.c_contiguous for a in (*arrays, *scratch))


def run_blocked(reference: Callable, arrays: tuple, scratch, **options) -> None:
    """``reference(*block_arrays, block_scratch, **options)`` on consecutive blocks of
    ``CHUNK`` elements, so that each of its passes runs in cache; element-wise, hence bit
    for bit the reference. ``arrays`` may hold None (absent state)."""
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    work, spare = (a.reshape(-1)[:CHUNK] for a in scratch)
    for start in range(0, flat[0].size, CHUNK):
        part = [None if a is None else a[start:start + CHUNK] for a in flat]
        n = part[0].size
        reference(*part, (work[:n], spare[:n]), **options)
