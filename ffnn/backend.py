"""Which array module holds the data: NumPy, or CuPy when the arrays are CuPy arrays.

Ops call :func:`xp` on their inputs instead of importing numpy for the math, so the same
forward and backward formulas run on a GPU when they are given ``cupy.ndarray`` inputs.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np


def xp(*arrays) -> ModuleType:
    """Return the array module (``numpy`` or ``cupy``) of the first non-NumPy array given."""
    for array in arrays:
        module = type(array).__module__
        if module.startswith("cupy"):
            import cupy  # noqa: PLC0415 - optional accelerator, imported only when used

            return cupy
    return np


def to_numpy(array) -> np.ndarray:
    """A host NumPy array from a NumPy or CuPy array."""
    if type(array).__module__.startswith("cupy"):
        return array.get()
    return np.asarray(array)
