"""Arrays that every rank on one host maps into its memory: MPI-3 shared-memory windows.

``MPI_Win_allocate_shared`` gives each rank of a host-local communicator a segment that the
other ranks of that host can read and write directly, with no message passing. A
:class:`SharedSegments` holds one window; :meth:`SharedSegments.views` lays arrays out in a
rank's segment (64-byte aligned) and :meth:`SharedSegments.fence` is the synchronisation
point: after it every rank sees what the others wrote before it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ffnn import accel
from ffnn.distributed._mpi import comm, mpi

ALIGN = 64
"""Byte alignment of every array in a segment (a cache line)."""

_host: dict = {}


def host_comm():
    """The communicator of the ranks on this rank's host (``MPI_COMM_TYPE_SHARED``), cached."""
    if "comm" not in _host:
        _host["comm"] = comm().Split_type(mpi().COMM_TYPE_SHARED)
    return _host["comm"]


def all_on_one_host() -> bool:
    """True when every rank of the world shares this rank's host (and so its memory)."""
    return host_comm().Get_size() == comm().Get_size()


def layout(specs: Sequence[tuple[tuple[int, ...], np.dtype]], start: int = 0
           ) -> tuple[list[int], int]:
    """Byte offsets of arrays ``(shape, dtype)`` placed one after another from ``start``, each
    aligned to :data:`ALIGN`; returns ``(offsets, end)``."""
    offsets, position = [], start
    for shape, dtype in specs:
        position = -(-position // ALIGN) * ALIGN
        offsets.append(position)
        position += int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return offsets, position


class SharedSegments:
    """One shared window over the host's ranks; this rank contributes ``nbytes`` bytes.

    Collective: every rank of the host calls it (``nbytes`` may differ, and be 0).
    """

    def __init__(self, nbytes: int):
        MPI = mpi()
        self.comm = host_comm()
        self.window = MPI.Win.Allocate_shared(max(int(nbytes), 0), 1, comm=self.comm)
        self.window.Lock_all(MPI.MODE_NOCHECK)  # one passive epoch; fence() orders accesses
        self._bytes: dict[int, np.ndarray] = {}

    def raw(self, rank: int) -> np.ndarray:
        """Rank ``rank``'s whole segment as a uint8 array (shared, writable)."""
        if rank not in self._bytes:
            memory, _ = self.window.Shared_query(rank)
            self._bytes[rank] = np.frombuffer(memory, dtype=np.uint8)
        return self._bytes[rank]

    def views(self, rank: int, specs: Sequence[tuple[tuple[int, ...], np.dtype]],
              offsets: Sequence[int]) -> list[np.ndarray]:
        """Arrays of the given shapes and dtypes at ``offsets`` inside ``rank``'s segment."""
        raw = self.raw(rank)
        arrays = []
        for (shape, dtype), offset in zip(specs, offsets):
            dtype = np.dtype(dtype)
            count = int(np.prod(shape, dtype=np.int64))
            flat = raw[offset:offset + count * dtype.itemsize].view(dtype)
            arrays.append(flat.reshape(shape))
        return arrays

    def fence(self) -> None:
        """Memory barrier + host barrier + memory barrier: writes before it, on any rank,
        are visible to reads after it, on every rank."""
        self.window.Sync()
        self.comm.Barrier()
        self.window.Sync()

    def free(self) -> None:
        """Give the window back (collective; no view of it may be used after)."""
        self._bytes.clear()
        self.window.Unlock_all()
        self.window.Free()


def sum_divide(arrays: list[np.ndarray], divisor: float, out: np.ndarray) -> None:
    """out ← (Σ arrays) / divisor, the arrays added in order (so every rank that adds the
    same ones gets the same bits); ``out`` may be ``arrays[0]`` (never a later one)."""
    mantissa, _ = math.frexp(divisor)
    exact = mantissa == 0.5  # a power of two: · 1/d is exact, and cheaper than / d
    if len(arrays) == 2 and exact and accel.usable(out, *arrays):
        accel.add_scale(arrays[0], arrays[1], out, 1.0 / divisor)  # one pass, not two
        return
    if len(arrays) == 1:
        np.copyto(out, arrays[0])
    else:
        np.add(arrays[0], arrays[1], out=out)
        for array in arrays[2:]:
            np.add(out, array, out=out)
    if divisor == 1:
        return
    if exact:
        np.multiply(out, 1.0 / divisor, out=out)
    else:
        np.divide(out, divisor, out=out)
