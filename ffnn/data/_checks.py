"""Input checks shared by datasets and scalers: messages name the argument and the bad cell."""

from __future__ import annotations

import numpy as np


def first_bad_cell(array: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first non-finite entry of a float array (row-major order), or None."""
    if array.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(array)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), array.shape))


def check_finite(array: np.ndarray, name: str, owner: str) -> None:
    """Raise ValueError naming ``name`` and the first NaN/inf cell (row, column)."""
    cell = first_bad_cell(array)
    if cell is None:
        return
    where = f"row {cell[0]}" + (f", column {cell[1]}" if len(cell) > 1 else "")
    if len(cell) > 2:
        where += f", index {cell}"
    raise ValueError(
        f"{owner}: {name} must contain only finite values (no NaN or inf); found "
        f"{array[cell]} at {where}. Received: {name} with shape {array.shape}"
    )


def as_numeric(data, name: str, owner: str) -> np.ndarray:
    """``data`` as a real-valued numeric ndarray (bool/int/float), else TypeError."""
    array = data.numpy() if hasattr(data, "numpy") and hasattr(data, "requires_grad") else data
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner}: {name} must be a numeric array (bool, int or float). "
            f"Received: {name} with dtype {array.dtype}"
        )
    return array


def as_float_matrix(data, name: str, owner: str, allow_1d: bool = False) -> np.ndarray:
    """``data`` as a finite 2-D float array; integer input becomes float64, floats keep dtype."""
    array = as_numeric(data, name, owner)
    if array.ndim != 2 and not (allow_1d and array.ndim == 1):
        expected = "a 1-D or 2-D" if allow_1d else "a 2-D (n_samples, n_features)"
        raise ValueError(
            f"{owner}: {name} must be {expected} array. Received: {name} with shape {array.shape}"
        )
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    check_finite(array, name, owner)
    return array
