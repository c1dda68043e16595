"""torch's dtype queries: ``finfo`` / ``iinfo``, ``is_floating_point``, and its promotion
rule (``promote_types``, ``result_type``, ``can_cast``): the higher category wins (bool <
integer < floating; int64 with float32 is float32, where NumPy gives float64), and among
operands, tensors with dimensions decide before 0-d tensors before Python numbers, a lower
tier counting only by a higher category."""

from __future__ import annotations

import numpy as np

from ffnn import dtypes
from ffnn.tensor import Tensor

__all__ = ["finfo", "iinfo", "is_floating_point", "promote_types", "result_type", "can_cast"]


class finfo:  # noqa: N801 - torch's name
    """A floating dtype's limits (the default dtype when None): bits, eps (1 to the next
    number), max, min, tiny = smallest_normal, resolution (10^−digits), dtype (its name)."""

    def __init__(self, type=None) -> None:  # noqa: A002 - torch's name
        dtype = dtypes.to_dtype(type)
        if dtype.kind != "f":
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        info = np.finfo(dtype)
        self.bits, self.dtype = int(info.bits), dtype.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - torch's name
    """An integer dtype's limits: bits, max, min, dtype (its name)."""

    def __init__(self, type) -> None:  # noqa: A002 - torch's name
        dtype = dtypes.to_dtype(type)
        if dtype.kind == "b":
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if dtype.kind not in "iu":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        info = np.iinfo(dtype)
        self.bits, self.max, self.min, self.dtype = int(info.bits), int(info.max), \
            int(info.min), dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def is_floating_point(input: Tensor) -> bool:
    """Whether the tensor's dtype is a floating one."""
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point(): argument 'input' (position 1) must be Tensor, "
                        f"not {type(input).__name__}")
    return input.is_floating_point()


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def promote_types(type1, type2) -> np.dtype:
    """torch's promotion of two dtypes: within a category (bool < integer < floating < complex) the
    larger (uint8 with int8: int16), across categories the higher one's dtype
    (int64 with float16: float16)."""
    a, b = dtypes.to_dtype(type1), dtypes.to_dtype(type2)
    rank_a, rank_b = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if rank_a != rank_b:
        return a if rank_a > rank_b else b
    return np.promote_types(a, b)


def _priority(operand) -> tuple[int, np.dtype]:
    """(2 for a tensor with dimensions, 1 for a 0-d tensor, 0 for a Python number; dtype)."""
    if isinstance(operand, Tensor):
        return (2 if operand.ndim else 1), operand.dtype
    if isinstance(operand, (bool, np.bool_)):
        return 0, np.dtype(bool)
    if isinstance(operand, (int, np.integer)):
        return 0, np.dtype(np.int64)
    if isinstance(operand, (float, np.floating)):
        return 0, dtypes.get_default_dtype()
    raise TypeError(f"result_type(): expected a Tensor or a Python number, received "
                    f"{type(operand).__name__}")


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """torch's combine_categories: a lower-priority operand counts only when it is of a
    higher category (a float number with an integer tensor)."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower)
    return higher


def result_dtype(*operands) -> np.dtype:
    """The dtype of an arithmetic op on the operands (tensors or numbers): tensors with
    dimensions decide, then 0-d tensors, then numbers, each only by a higher category."""
    found: dict[int, np.dtype] = {}
    for operand in operands:
        priority, dtype = _priority(operand)
        found[priority] = promote_types(found[priority], dtype) if priority in found else dtype
    return _combine(found.get(2), _combine(found.get(1), found.get(0)))


def result_type(tensor1, tensor2) -> np.dtype:
    """``result_dtype`` of the two operands, as ``torch.result_type``."""
    return result_dtype(tensor1, tensor2)


def can_cast(from_, to) -> bool:
    """Whether torch casts ``from_`` to ``to`` in an in-place op: not floating to integer,
    not anything but bool to bool."""
    source, target = dtypes.to_dtype(from_), dtypes.to_dtype(to)
    if source.kind == "f" and target.kind in "iu":
        return False
    return not (source.kind != "b" and target.kind == "b")


def wrapped_int(value: int, dtype: np.dtype) -> np.generic:
    """A Python int in an integer ``dtype`` as torch converts an operand: modulo 2ⁿ (uint8:
    300 is 44, -1 is 255). Raises torch's OverflowError beyond 64 bits."""
    if value >= 1 << 64:
        raise OverflowError("int too big to convert")
    if value < -(1 << 63):
        raise OverflowError("can't convert negative int to unsigned")
    return np.array(value).astype(dtype)[()]
