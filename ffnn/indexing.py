"""torch's reading of an index (``x[...]``, ``x[...] = v``) as NumPy indices.

torch and NumPy agree on most indices; where they differ, ffnn takes torch's meaning:

* an integer (or a 0-d integer tensor) is basic indexing, applied first: ``x[0, :, idx]`` is
  ``x[0][:, idx]``, shape [3, 2] for x [2, 3, 4] and two indices (NumPy counts the integer as
  advanced, separated from ``idx`` by the slice, and puts the broadcast axes first: [2, 3]);
  and ``x[torch.tensor(0)]`` is a view, as ``x[0]``;
* a list holding tensors, sequences, slices, ``None`` or ``...`` (fewer than 32 entries) is
  read as a tuple: ``x[[t0, t1]]`` is ``x[t0, t1]``;
* a uint8 tensor is a mask, as a bool one (torch's deprecated byte masks, with its warning);
* an empty list selects nothing (``x[[]]``: shape [0, ...]).
"""

from __future__ import annotations

import warnings

import numpy as np

_TUPLE_LIMIT = 32
"""torch reads a list index as a tuple only below this many entries."""


def torch_index(index) -> tuple[object, tuple | None]:
    """(the NumPy index, the integers to apply first or None): where an integer sits among
    advanced indices, ``first`` holds the integers (the other places ``slice(None)``) and
    the index the rest, to be applied to ``x[first]``."""
    if _reads_as_tuple(index):
        index = tuple(index)
    if not isinstance(index, tuple):
        return _part(index), None
    parts = tuple(_part(part) for part in index)
    if not any(_is_integer(p) for p in parts) or not any(_is_advanced(p) for p in parts):
        return parts, None
    first, rest = [], []
    for part in parts:
        if _is_integer(part):
            first.append(part)
        else:
            rest.append(part)
            if part is Ellipsis:
                first.append(Ellipsis)
            elif part is not None:  # a mask spans its own dims
                first += [slice(None)] * (part.ndim if _is_mask(part) else 1)
    return tuple(rest), tuple(first)


def _reads_as_tuple(index) -> bool:
    """torch's ``treatSequenceAsTuple`` for a list."""
    if type(index) is not list or len(index) >= _TUPLE_LIMIT:
        return False
    from ffnn.tensor import Tensor

    return any(isinstance(i, (Tensor, list, tuple, slice, np.ndarray)) or i is None or
               i is Ellipsis for i in index)


def _part(part):
    """One index entry as NumPy reads it the torch way."""
    from ffnn.tensor import Tensor

    if isinstance(part, Tensor):
        part = part._data
    if isinstance(part, np.ndarray):
        if part.dtype == np.uint8:
            warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a "
                          "dtype torch.bool instead.", UserWarning, stacklevel=4)
            return part.astype(bool)
        if part.ndim == 0 and part.dtype.kind in "iu":
            return int(part)
        return part
    if isinstance(part, list):
        return np.asarray(part) if part else np.zeros(0, np.int64)
    return part


def _is_integer(part) -> bool:
    return isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_))


def _is_advanced(part) -> bool:
    return isinstance(part, np.ndarray)


def _is_mask(part) -> bool:
    return isinstance(part, np.ndarray) and part.dtype == bool
