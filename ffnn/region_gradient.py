"""Gradients that are zero but in a few regions, added up before they are written out.

The gradient of ``x[index]`` for a basic index (slices, integers: ``chunk``, ``split``,
``narrow``, ``unbind``, ``q, k, v = qkv.chunk(3, -1)``) is zeros of x's shape with dL/dy at
``index``. Written out for every piece and then added, n pieces of x cost n arrays of x's
size and n - 1 additions of them (``x.chunk(4)`` on [2048, 256] float32: 2.8 ms, 7x
torch's). The backward engine (``ffnn.autograd``) instead keeps a ``Region``, its pieces
listed, and writes them into one array when the gradient is needed: one array, each piece
added once. Arrays the engine made itself (``owned``) take later gradients in place.
"""

from __future__ import annotations

from ffnn.backend import xp


class Region:
    """zeros(shape, dtype) with ``values`` added at ``index``, for each (index, values) in
    ``parts``."""

    __slots__ = ("shape", "dtype", "parts")

    def __init__(self, shape: tuple, dtype, index, values):
        self.shape, self.dtype, self.parts = shape, dtype, [(index, values)]

    def dense(self):
        """The gradient as an array (a new one)."""
        m = xp(self.parts[0][1])
        spans = _spans(self.parts, self.shape)
        if spans is None:  # pieces that may overlap: each added
            out = m.zeros(self.shape, dtype=self.dtype)
            for index, values in self.parts:
                out[index] += values
            return out
        axis, covered = spans
        out = (m.empty if covered else m.zeros)(self.shape, dtype=self.dtype)
        for index, values in self.parts:
            out[index] = values
        return out


def _spans(parts: list, shape: tuple) -> tuple[int, bool] | None:
    """(axis, whether the pieces cover it) when every piece is a block of whole slices but
    along one axis, the same for all, with no two overlapping (``chunk``, ``split``); else
    None."""
    axis, spans = None, []
    for index, _ in parts:
        index = index if isinstance(index, tuple) else (index,)
        if len(index) > len(shape) or not all(type(i) is slice for i in index):
            return None
        cut = [(d, i.indices(shape[d])) for d, i in enumerate(index)
               if i.indices(shape[d]) != (0, shape[d], 1)]
        if len(cut) > 1 or (cut and cut[0][1][2] != 1) or (cut and axis not in (None, cut[0][0])):
            return None
        if not cut:  # the whole array
            cut = [(axis or 0, (0, shape[axis or 0] if shape else 1, 1))]
        axis = cut[0][0]
        spans.append(cut[0][1][:2])
    spans.sort()
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:])) or not shape:
        return None
    covered = spans[0][0] == 0 and spans[-1][1] == shape[axis] and \
        all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    return axis, covered


def dense(value, owned: set):
    """``value`` as an array (a ``Region`` written out), its id dropped from ``owned``: once
    handed to an op, an array may be kept or passed on, so it is not changed in place."""
    owned.discard(id(value))
    return value.dense() if type(value) is Region else value


def add(pending: dict, key, value, owned: set) -> None:
    """pending[key] += value, where either may be a ``Region``; ``owned`` holds the ids of
    the arrays in ``pending`` that the engine made (so it may add into them in place)."""
    existing = pending.get(key)
    pending[key] = value if existing is None else summed(existing, value, owned)


def summed(existing, value, owned: set):
    """existing + value, either a ``Region`` (two regions: ``existing``, with the parts of
    ``value``); into ``existing`` in place where the engine made it (its id in ``owned``)."""
    if type(existing) is Region and type(value) is Region:
        existing.parts += value.parts
        return existing
    if type(existing) is Region:
        existing, value = value, existing  # the array first: a + b is b + a
    ours = id(existing) in owned
    owned.discard(id(existing))
    if type(value) is not Region or existing.dtype != value.dtype or \
            existing.shape != value.shape:
        return _owned(existing + dense(value, owned), owned)
    if not ours:
        existing = existing.copy()
    for index, values in value.parts:
        existing[index] += values
    return _owned(existing, owned)


def _owned(array, owned: set):
    owned.add(id(array))
    return array
