"""The scalar helpers of the compiled kernels (``ffnn.kernels.elementwise.scalar_helper``) as
the kernels run them: compiled, inlined into a loop over an array."""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def compiled_loop(name: str):
    """``run(values) -> array``: the helper ``name`` applied to every element in a compiled
    loop (compiled once per helper and dtype in a test process)."""
    import numba

    from ffnn.kernels.elementwise import scalar_helper

    helper = scalar_helper(name)

    @numba.njit
    def apply(values, out):  # pragma: no cover - compiled
        for i in range(values.size):
            out[i] = helper(values[i])

    def run(values: np.ndarray) -> np.ndarray:
        out = np.empty_like(values)
        apply(values, out)
        return out

    return run
