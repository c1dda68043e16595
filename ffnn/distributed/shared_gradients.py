"""``allreduce_gradients`` through shared memory, where every rank is on one host.

MPI's ``Allreduce`` moves a buffer through the library's own shared cells in pieces: packing
the gradients, reducing, dividing and unpacking them made five passes over them and more
(33.5 MB of float32 gradients on two ranks: 34 ms of a 93 ms step). Here each rank maps one
window (``shared_memory.SharedSegments``) and a step is::

    own segment ← w_r · g_r   (and the header: w_r, which gradients this rank has)
    fence
    g ← (Σ_r segment_r) / Σ_r w_r   into each ``.grad``, ranks added in order 0, 1, …
    fence                      (no rank writes its segment again while another reads it)

Every rank adds the same numbers in the same order, so every rank gets the same bits; with
two ranks they are MPI's too (a + b = b + a). Only the ranks that have a parameter's
gradient are added (a missing ``.grad`` counts as zeros, as in the messages' path).
"""

from __future__ import annotations

import numpy as np

from ffnn.distributed import shared_memory


def flat_segments(groups: dict, params: list):
    """(dtype, parameter index, slice) of each parameter in the flat array of its dtype:
    ``groups`` (dtype → the parameters' indices) laid out one after another, in order."""
    for dtype, members in groups.items():
        offset = 0
        for i in members:
            size = params[i]._data.size
            yield dtype, i, slice(offset, offset + size)
            offset += size


def write_scaled(grad: np.ndarray, segment: np.ndarray, scale: float) -> None:
    """segment ← ``grad`` · ``scale``, flat (a copy where scale is 1)."""
    if scale == 1.0:
        np.copyto(segment, grad.reshape(-1))
    else:
        np.multiply(grad.reshape(-1), scale, out=segment)


class SharedGradients:
    """One window for the gradients of ``params`` (the same list on every rank): per rank,
    a header of float64 [w_r, has-grad flag per parameter] then one flat array per dtype
    (``groups``: dtype → the parameters' indices, in order). Collective."""

    def __init__(self, params: list, groups: dict[np.dtype, list[int]]):
        count = len(params)
        specs = [((1 + count,), np.dtype(np.float64))]
        specs += [((sum(params[i]._data.size for i in members),), dtype)
                  for dtype, members in groups.items()]
        offsets, end = shared_memory.layout(specs)
        self.segments = shared_memory.SharedSegments(end)
        size = self.segments.comm.Get_size()
        self.rank = self.segments.comm.Get_rank()
        self.groups = groups
        self.headers, self.flats = [], []
        for rank in range(size):
            header, *flats = self.segments.views(rank, specs, offsets)
            self.headers.append(header)
            self.flats.append(dict(zip(groups, flats)))

    def publish(self, params: list, weight: float, scale: float) -> None:
        """This rank's ``weight`` and each ``.grad`` · ``scale`` into its segment."""
        header, flats = self.headers[self.rank], self.flats[self.rank]
        header[0] = weight
        for dtype, i, where in flat_segments(self.groups, params):
            grad = params[i]._grad
            header[1 + i] = grad is not None
            if grad is not None:
                write_scaled(grad, flats[dtype][where], scale)

    def fence(self) -> None:
        self.segments.fence()

    def total_weight(self) -> float:
        """Σ_r w_r, in rank order (after ``fence``)."""
        return sum(float(header[0]) for header in self.headers)

    def gather(self, params: list, divisor: float) -> None:
        """Each parameter's ``.grad`` ← (Σ_r its segment_r) / ``divisor`` over the ranks that
        have it (written in place where the ``.grad`` can take it); a parameter no rank has
        a gradient for keeps ``None``."""
        for dtype, i, where in flat_segments(self.groups, params):
            param = params[i]
            parts = [flats[dtype][where].reshape(param._data.shape)
                     for header, flats in zip(self.headers, self.flats) if header[1 + i]]
            if not parts:
                continue
            own = param._grad
            fits = own is not None and own.shape == param._data.shape and \
                own.dtype == dtype and own.flags.writeable and own.flags.c_contiguous
            out = own if fits else np.empty(param._data.shape, dtype)
            shared_memory.sum_divide(parts, divisor, out)
            param._grad = out
