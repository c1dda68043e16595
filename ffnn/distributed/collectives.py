"""Collectives on model state: broadcast parameters, average gradients, reduce metrics.

Arrays travel in flat contiguous buffers, one per dtype: a step's gradients cost a few large
``Allreduce`` calls (chunks of ``bucket_cap_mb``), never one call per parameter.

Gradient rule (exact for a loss that is a mean over rows): rank r holds g_r, the gradient of
the mean loss over its n_r rows. ``allreduce_gradients(model, weight=n_r)`` sets every rank's
gradient to  g = Σ_r n_r g_r / Σ_r n_r,  the gradient of the mean loss over the global batch,
so R ranks with shards of any sizes take the same step as one process with the whole batch.
Without ``weight`` every rank counts 1 (the plain average, the same thing for equal shards).
"""

from __future__ import annotations

import json
import math
import numbers
import weakref
import zlib
from collections.abc import Iterable, Mapping

import numpy as np

from ffnn.distributed import shared_memory
from ffnn.distributed._mpi import comm, mpi
from ffnn.distributed.shared_gradients import SharedGradients, flat_segments, write_scaled
from ffnn.tensor import Tensor

BUCKET_CAP_MB = 4.0
"""Largest single Allreduce, in MiB. On one host, 1-8 MiB pieces reduced a 32 MiB float32
buffer 2-4x faster than one call (they stay in cache); across hosts 4 MiB already costs far
more than a call's latency."""

_OPS = ("mean", "sum")


def _parameters(model) -> list:
    """Distinct parameters of a Module, or of an iterable of Tensors, in order."""
    items = model.parameters() if hasattr(model, "parameters") else model
    seen, params = set(), []
    for param in items:
        if not isinstance(param, Tensor):
            raise TypeError(f"expected a Module or an iterable of Tensors. Received: an element "
                            f"of type {type(param).__name__}")
        if id(param) not in seen:
            seen.add(id(param))
            params.append(param)
    return params


def _signature(arrays: list[np.ndarray]) -> np.ndarray:
    """[count, total size, crc32 of shapes and dtypes]: equal on all ranks iff layouts agree."""
    layout = ";".join(f"{a.shape}{a.dtype.str}" for a in arrays)
    return np.array([len(arrays), sum(a.size for a in arrays), zlib.crc32(layout.encode())],
                    dtype=np.int64)


def _check_same_layout(arrays: list[np.ndarray], what: str) -> None:
    """Raise ValueError on every rank when ranks disagree on the arrays' shapes or dtypes."""
    world = comm()
    if world.Get_size() == 1:
        return
    mine = _signature(arrays)
    every = np.empty((world.Get_size(), mine.size), dtype=np.int64)
    world.Allgather(mine, every)
    differ = [r for r in range(world.Get_size()) if not np.array_equal(every[r], every[0])]
    if differ:
        raise ValueError(
            f"{what}: ranks {differ} hold a different model from rank 0 (arrays, sizes or dtypes "
            f"differ: rank 0 has {every[0, 0]} arrays with {every[0, 1]} values, rank "
            f"{differ[0]} has {every[differ[0], 0]} with {every[differ[0], 1]}). Build the same "
            f"model on every rank."
        )


def _chunks(size: int, itemsize: int, bucket_cap_mb: float) -> Iterable[slice]:
    step = max(1, int(bucket_cap_mb * 2**20) // itemsize)
    for start in range(0, size, step):
        yield slice(start, min(start + step, size))


def _by_dtype(arrays: list[np.ndarray]) -> dict[np.dtype, list[int]]:
    groups: dict[np.dtype, list[int]] = {}
    for i, array in enumerate(arrays):
        groups.setdefault(array.dtype, []).append(i)
    return groups


def broadcast_arrays(arrays: list[np.ndarray], root: int = 0,
                     bucket_cap_mb: float = BUCKET_CAP_MB) -> None:
    """Overwrite ``arrays`` on every rank with rank ``root``'s values, in place (one flat
    buffer per dtype). Raises ValueError when the ranks' arrays differ in shape or dtype.
    Returns when every rank has written its copy (arrays that ranks share in memory, as a
    ZeroRedundancyOptimizer's, are then never overwritten late by a slower rank)."""
    _check_same_layout(arrays, "broadcast_arrays")
    world = comm()
    if world.Get_size() == 1:
        return
    for dtype, members in _by_dtype(arrays).items():
        flat = np.concatenate([arrays[i].reshape(-1) for i in members])
        for piece in _chunks(flat.size, dtype.itemsize, bucket_cap_mb):
            world.Bcast(flat[piece], root=root)
        offset = 0
        for i in members:
            array = arrays[i]
            np.copyto(array, flat[offset:offset + array.size].reshape(array.shape))
            offset += array.size
    world.Barrier()


def broadcast_parameters(model, root: int = 0) -> None:
    """Copy rank ``root``'s parameters and buffers (running statistics …) into the same model
    on every rank, in place. Call once after building the model (and after loading a
    checkpoint) so that all ranks start from identical weights."""
    _check_root(root)
    params = [p._data for p in _parameters(model)]
    buffers = [b.numpy() for b in model.buffers() if b is not None] \
        if hasattr(model, "buffers") else []
    broadcast_arrays(params + buffers, root=root)


def _check_root(root) -> None:
    size = comm().Get_size()
    if isinstance(root, bool) or not isinstance(root, numbers.Integral) or not 0 <= root < size:
        raise ValueError(f"root must be a rank in [0, {size - 1}]. Received: root={root!r}")


class _GradientBuffers:
    """Flat per-dtype buffers for one list of parameters, reused from step to step."""

    def __init__(self, params: list):
        self.params = params
        self.layout = _layout(params)
        self.groups = _by_dtype([p._data for p in params])
        self.meta = np.empty(1 + len(params), dtype=np.float64)  # [weight, has-grad counts…]
        self._flat: dict | None = None  # made at the first messages' call
        self.shared: SharedGradients | None = None  # the window, once a step has needed it

    @property
    def flat(self) -> dict:
        """dtype → the flat buffer of that dtype's gradients (``flat_segments``' layout)."""
        if self._flat is None:
            self._flat = {dtype: np.empty(sum(self.params[i]._data.size for i in members),
                                          dtype=dtype)
                          for dtype, members in self.groups.items()}
        return self._flat

    def matches(self, params: list) -> bool:
        return self.layout == _layout(params)


def _layout(params: list) -> list:
    return [(id(p), p._data.dtype, p._data.shape) for p in params]


_buffers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _gradient_buffers(model, params: list) -> tuple[_GradientBuffers, bool]:
    """(the buffers for ``params``, whether they are kept for ``model``'s next call)."""
    try:
        cached = _buffers.get(model)
    except TypeError:  # not weak-referenceable (a plain list): no cache
        cached = None
    if cached is not None and cached.matches(params):
        return cached, True
    _check_same_layout([p._data for p in params], "allreduce_gradients")
    if cached is not None and cached.shared is not None:  # its parameters changed (frozen,
        cached.shared.segments.free()  # unfrozen, replaced): every rank gives it back here
        cached.shared = None
    built = _GradientBuffers(params)
    try:
        _buffers[model] = built
    except TypeError:
        return built, False
    return built, True


def _check_weight(weight, op: str) -> float:
    if weight is None:
        return 1.0
    if op == "sum":
        raise ValueError(f"allreduce_gradients: weight applies to op='mean' only. Received: "
                         f"op='sum', weight={weight!r}")
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) \
            or not math.isfinite(weight) or weight < 0:
        raise ValueError(f"allreduce_gradients: weight must be a finite number >= 0 (e.g. this "
                         f"rank's number of rows). Received: weight={weight!r}")
    return float(weight)


def allreduce_gradients(model, op: str = "mean", weight: float | None = None,
                        bucket_cap_mb: float = BUCKET_CAP_MB) -> float:
    """Combine every parameter's ``.grad`` across ranks, in place, before clipping and the step.

    ``op='mean'``: g ← Σ_r w_r g_r / Σ_r w_r with w_r = ``weight`` (default 1); pass this
    rank's number of rows for a mean-reduced loss to get exactly the one-process gradient
    with uneven shards. ``op='sum'``: g ← Σ_r g_r (for a sum-reduced loss).
    ``model``: a Module or an iterable of parameters (the same on every rank). A missing
    ``.grad`` counts as zeros; it stays ``None`` only when it is missing on every rank.
    Returns Σ_r w_r (the world size when no weight is given; for ``'sum'``, too).
    Where every rank is on one host, a Module's gradients go through one shared-memory
    window (``shared_gradients``); otherwise (or for a list of parameters) through
    ``Allreduce`` calls of at most ``bucket_cap_mb`` MiB.
    """
    if op not in _OPS:
        raise ValueError(f"allreduce_gradients: op must be 'mean' or 'sum'. Received: op={op!r}")
    mine = _check_weight(weight, op)
    if isinstance(bucket_cap_mb, bool) or not isinstance(bucket_cap_mb, numbers.Real) \
            or not bucket_cap_mb > 0:
        raise ValueError(f"allreduce_gradients: bucket_cap_mb must be a number > 0. Received: "
                         f"bucket_cap_mb={bucket_cap_mb!r}")
    params = [p for p in _parameters(model) if p.requires_grad]
    world = comm()
    if world.Get_size() == 1:
        return mine if op == "mean" else 1.0
    if not params:
        return float(all_reduce(mine)) if op == "mean" else float(world.Get_size())
    state, kept = _gradient_buffers(model, params)
    if kept and shared_memory.all_on_one_host():
        return _allreduce_shared(state, params, op, mine, weight)
    MPI = mpi()
    state.meta[0] = mine
    _pack_gradients(state, params, mine if op == "mean" else 1.0)
    world.Allreduce(MPI.IN_PLACE, state.meta, op=MPI.SUM)
    total = float(state.meta[0]) if op == "mean" else float(world.Get_size())
    if op == "mean" and not total > 0:
        raise ValueError(f"allreduce_gradients: the ranks' weights sum to {total}; at least one "
                         f"rank needs weight > 0. Received: weight={weight!r} on rank "
                         f"{world.Get_rank()}")
    for dtype, flat in state.flat.items():
        for piece in _chunks(flat.size, dtype.itemsize, bucket_cap_mb):
            world.Allreduce(MPI.IN_PLACE, flat[piece], op=MPI.SUM)
        if op == "mean":
            np.divide(flat, total, out=flat)
    _unpack_gradients(state, params)
    return total


def _allreduce_shared(state: _GradientBuffers, params: list, op: str, mine: float,
                      weight) -> float:
    """``allreduce_gradients`` through one shared window (``shared_gradients``), made at
    the first call for these buffers (every rank on this host; a Module's buffers, kept
    between calls, as the window must be)."""
    if state.shared is None:
        state.shared = SharedGradients(params, state.groups)
    shared = state.shared
    shared.publish(params, mine, mine if op == "mean" else 1.0)
    shared.fence()
    try:
        if op == "sum":
            shared.gather(params, 1.0)
            return float(comm().Get_size())
        total = shared.total_weight()
        if not total > 0:
            raise ValueError(f"allreduce_gradients: the ranks' weights sum to {total}; at least "
                             f"one rank needs weight > 0. Received: weight={weight!r} on rank "
                             f"{comm().Get_rank()}")
        shared.gather(params, total)
        return total
    finally:
        shared.fence()  # every rank has read every segment before any writes its own again


def _pack_gradients(state, params: list, scale: float) -> None:
    """Each parameter's ``.grad`` · scale into its segment of the flat buffer of its dtype
    (zeros when missing, noted in ``state.meta``)."""
    for dtype, i, where in flat_segments(state.groups, params):
        grad, segment = params[i]._grad, state.flat[dtype][where]
        state.meta[1 + i] = grad is not None
        if grad is None:
            segment.fill(0)
        else:
            write_scaled(grad, segment, scale)


def _unpack_gradients(state, params: list) -> None:
    """The reduced segments back into ``.grad`` (in place when it can be), for every
    parameter that had a gradient on some rank."""
    for dtype, i, where in flat_segments(state.groups, params):
        param = params[i]
        if state.meta[1 + i] > 0:
            segment = state.flat[dtype][where].reshape(param._data.shape)
            if param._grad is not None and param._grad.shape == segment.shape \
                    and param._grad.flags.writeable:
                np.copyto(param._grad, segment)
            else:
                param._grad = segment.copy()


def all_reduce(value, op: str = "sum") -> np.ndarray:
    """Elementwise ``op`` ('sum', 'mean', 'max', 'min') of an array, Tensor or number over all
    ranks; returns a new float64/integer array (same shape) on every rank."""
    ops = ("sum", "mean", "max", "min")
    if op not in ops:
        raise ValueError(f"all_reduce: op must be one of {ops}. Received: op={op!r}")
    array = value._data if isinstance(value, Tensor) else value
    array = np.array(array, copy=True)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"all_reduce: expected numbers. Received: dtype {array.dtype}")
    world, MPI = comm(), mpi()
    if world.Get_size() > 1:
        mpi_op = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}[op]
        world.Allreduce(MPI.IN_PLACE, array.reshape(-1) if array.ndim else array.reshape(1),
                        op=mpi_op)
    if op == "mean":
        array = array / world.Get_size()
    return array


def reduce_metrics(logs: Mapping[str, float], weight: float = 1.0) -> dict[str, float]:
    """Weighted mean of each metric across ranks: Σ_r w_r m_r / Σ_r w_r, one Allreduce.

    Pass this rank's number of samples as ``weight`` for exact means of per-sample metrics
    (loss, accuracy). Every rank must pass the same keys (checked)."""
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) \
            or not math.isfinite(weight) or weight < 0:
        raise ValueError(f"reduce_metrics: weight must be a finite number >= 0. Received: "
                         f"weight={weight!r}")
    keys = sorted(logs)
    world = comm()
    if world.Get_size() == 1:
        return {key: float(logs[key]) for key in keys}
    crc = np.array([zlib.crc32(json.dumps(keys).encode())], dtype=np.int64)
    crcs = np.empty(world.Get_size(), dtype=np.int64)
    world.Allgather(crc, crcs)
    if np.any(crcs != crcs[0]):
        raise ValueError(f"reduce_metrics: ranks passed different metric names; rank "
                         f"{world.Get_rank()} has {keys}")
    values = np.array([float(weight) * float(logs[key]) for key in keys] + [float(weight)])
    world.Allreduce(mpi().IN_PLACE, values, op=mpi().SUM)
    if not values[-1] > 0:
        raise ValueError("reduce_metrics: the ranks' weights sum to 0")
    return {key: float(values[i] / values[-1]) for i, key in enumerate(keys)}


def broadcast_json(obj=None, root: int = 0):
    """Rank ``root``'s JSON-able ``obj`` on every rank (sent as UTF-8 JSON, never pickle)."""
    _check_root(root)
    world = comm()
    if world.Get_size() == 1:
        return json.loads(json.dumps(obj))
    payload = json.dumps(obj).encode() if world.Get_rank() == root else b""
    length = np.array([len(payload)], dtype=np.int64)
    world.Bcast(length, root=root)
    buffer = np.frombuffer(payload, dtype=np.uint8).copy() if world.Get_rank() == root \
        else np.empty(int(length[0]), dtype=np.uint8)
    world.Bcast(buffer, root=root)
    return json.loads(buffer.tobytes().decode())


def all_gather_rows(array) -> np.ndarray:
    """Every rank's rows, concatenated in rank order (``Allgatherv`` along axis 0); the
    trailing shape and dtype must be the same on all ranks (a rank may have 0 rows)."""
    array = np.ascontiguousarray(array._data if isinstance(array, Tensor) else array)
    world = comm()
    if world.Get_size() == 1:
        return array
    if array.ndim == 0:
        array = array.reshape(1)
    counts = np.empty(world.Get_size(), dtype=np.int64)
    world.Allgather(np.array([array.shape[0]], dtype=np.int64), counts)
    per_row = int(np.prod(array.shape[1:], dtype=np.int64))
    out = np.empty((int(counts.sum()),) + array.shape[1:], dtype=array.dtype)
    world.Allgatherv(array, [out, counts * per_row])
    return out
