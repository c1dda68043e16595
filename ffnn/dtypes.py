"""Dtype names accepted wherever torch takes a dtype (``ffnn.float32``, ``"float64"``, …)."""

from __future__ import annotations

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
int16 = short = np.dtype("int16")
int32 = np.dtype("int32")
int64 = long = np.dtype("int64")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")


class UnheldDtype:
    """A torch dtype that no NumPy dtype is, so no ffnn tensor holds it (``bfloat16``). It is
    accepted where a dtype only picks a mode ffnn does not have (``autocast(dtype=...)``, a
    no-op: the block computes in the tensors' own dtype); ``to_dtype`` refuses it with the
    reason, where a tensor or module would be cast to it."""

    is_floating_point, is_complex, is_signed = True, False, True

    def __init__(self, name: str, itemsize: int):
        self.name, self.itemsize = name, itemsize

    def __repr__(self) -> str:
        return f"ffnn.{self.name}"

    def refusal(self, received) -> TypeError:
        return TypeError(f"dtype={received!r}: ffnn's tensors hold NumPy's dtypes (float16, "
                         f"float32, float64 …), and {self.name} is none of them; cast to "
                         "float32 or float16 instead (autocast with this dtype runs in the "
                         "tensors' own dtype)")


bfloat16 = UnheldDtype("bfloat16", 2)
_UNHELD = {"bfloat16": bfloat16}

_default_float = float32


_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
            "int": "int32", "short": "int16", "bool": "bool"}


def to_dtype(dtype) -> np.dtype:
    """Normalise a dtype: ``ffnn.float64``, ``np.float64``, ``"double"``, ``torch.float64``…"""
    if dtype is None:
        return _default_float
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, UnheldDtype):
        raise dtype.refusal(dtype)
    if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), np.dtype):
        return dtype.dtype  # a legacy tensor type: ffnn.FloatTensor, ffnn.LongTensor …
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        from ffnn.tensor_types import type_by_name

        return type_by_name(dtype).dtype
    if isinstance(dtype, str) or type(dtype).__module__ == "torch":
        name = str(dtype).removeprefix("torch.")
        if name in _UNHELD:
            raise _UNHELD[name].refusal(dtype)
        try:
            return np.dtype(_ALIASES.get(name, name))
        except TypeError:
            raise TypeError(f"unknown dtype. Received: dtype={dtype!r}") from None
    return np.dtype(dtype)


def get_default_dtype() -> np.dtype:
    """The floating dtype that new tensors and parameters get (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the floating dtype of new tensors and parameters (float32 or float64)."""
    global _default_float
    dtype = to_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype expects a floating dtype. Received: dtype={dtype}")
    _default_float = dtype


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"
