"""``F.pad``: widen (or, with negative amounts, crop) the last dims of a tensor.

``pad = (left_last, right_last, left_2nd_last, right_2nd_last, …)``. Mode 'constant' fills
with ``value``; 'reflect' mirrors without repeating the edge, 'replicate' repeats the edge,
'circular' wraps around; the last three gather entries by index, so gradients add up.
"""

from __future__ import annotations

import numpy as np

from ffnn.tensor import Tensor

_INDEX_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _along(ndim: int, dim: int, index) -> tuple:
    return (slice(None),) * dim + (index,)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """``input`` padded by ``pad`` (see the module docstring)."""
    from ffnn.creation import cat

    pad = tuple(int(n) for n in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most twice the number of "
                         f"dims ({input.ndim}); received {len(pad)} values")
    if mode != "constant" and mode not in _INDEX_MODES:
        raise NotImplementedError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                                  f"'circular', received {mode!r}")
    out = input
    for k in range(len(pad) // 2):
        dim = input.ndim - 1 - k
        left, right = pad[2 * k], pad[2 * k + 1]
        size = out.shape[dim]
        start, stop = max(-left, 0), size - max(-right, 0)
        if start or stop != size:
            out = out[_along(out.ndim, dim, slice(start, stop))]
        left, right = max(left, 0), max(right, 0)
        if not (left or right):
            continue
        if mode == "constant":
            parts = []
            for amount in (left, right):
                shape = list(out.shape)
                shape[dim] = amount
                parts.append(Tensor._make(np.full(shape, 0 if value is None else value,
                                                  out.dtype), False, None))
            out = cat([parts[0], out, parts[1]], dim)
        else:
            n = out.shape[dim]
            if mode == "reflect" and (left >= n or right >= n):
                raise RuntimeError(f"pad: padding ({left}, {right}) should be smaller than the "
                                   f"input size {n} of dim {dim} in reflect mode")
            index = np.pad(np.arange(n), (left, right), mode=_INDEX_MODES[mode])
            out = out[_along(out.ndim, dim, index)]
    return out
