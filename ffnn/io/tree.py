"""Nested state (optimizer, scheduler, history …) ↔ JSON plus named tensors, losslessly.

:func:`pack` replaces every array by ``{"$tensor": name}`` (the array goes to ``tensors`` under
a dotted name such as ``optimizer.state.0.exp_avg``), tuples by ``{"$tuple": [...]}`` and dicts
whose keys are not plain strings by ``{"$dict": [[key, value], ...]}``; :func:`unpack` undoes
it, so ``unpack(pack(x)) == x`` with ints, tuples and array dtypes intact.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ffnn.tensor import Tensor

TENSOR, TUPLE, DICT = "$tensor", "$tuple", "$dict"


def pack(value, prefix: str, tensors: dict[str, np.ndarray]):
    """JSON-able form of ``value``; arrays are stored in ``tensors``. TypeError names the
    entry that cannot be saved (functions, objects …)."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"cannot save {prefix}: arrays of dtype {value.dtype} are not "
                            "supported")
        if prefix in tensors:
            raise TypeError(f"cannot save {prefix}: two entries map to the same tensor name")
        tensors[prefix] = value
        return {TENSOR: prefix}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {TUPLE: [pack(v, f"{prefix}.{i}", tensors) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [pack(v, f"{prefix}.{i}", tensors) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: pack(v, f"{prefix}.{k}", tensors) for k, v in value.items()}
        return {DICT: [[pack(k, f"{prefix}.$key", {}), pack(v, f"{prefix}.{k}", tensors)]
                       for k, v in value.items()]}
    raise TypeError(f"cannot save {prefix}: values of type {type(value).__name__} are not "
                    "JSON-able (use numbers, strings, lists, dicts or arrays)")


def unpack(value, tensors: dict[str, np.ndarray]):
    """Inverse of :func:`pack`. ValueError for a reference to a missing tensor or a malformed
    marker."""
    if isinstance(value, list):
        return [unpack(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, inner), = value.items()
        if key == TENSOR:
            if not isinstance(inner, str) or inner not in tensors:
                raise ValueError(f"reference to missing tensor {inner!r}")
            return tensors[inner]
        if key == TUPLE:
            if not isinstance(inner, list):
                raise ValueError("malformed $tuple entry")
            return tuple(unpack(v, tensors) for v in inner)
        if key == DICT:
            if not isinstance(inner, list) or not all(
                    isinstance(p, list) and len(p) == 2 for p in inner):
                raise ValueError("malformed $dict entry")
            try:
                return {unpack(k, tensors): unpack(v, tensors) for k, v in inner}
            except TypeError as error:  # an unhashable key
                raise ValueError(f"malformed $dict entry: {error}") from None
    return {k: unpack(v, tensors) for k, v in value.items()}
