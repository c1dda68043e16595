"""torch's legacy typed constructors: ``FloatTensor``, ``LongTensor`` … and ``Tensor.type()``.

``ffnn.FloatTensor([1, 2])`` is a float32 tensor holding the data, ``ffnn.FloatTensor(2, 3)`` a
float32 tensor of shape (2, 3) (zeros; torch leaves it uninitialised). ``isinstance(t,
ffnn.LongTensor)`` is true for an int64 tensor; ``t.type()`` is ``'torch.FloatTensor'`` and
``t.type(ffnn.LongTensor)`` or ``t.type('torch.LongTensor')`` casts, as in torch.
"""

from __future__ import annotations

import numpy as np


class _TensorType(type):
    """Metaclass: calling the class builds an ``ffnn.Tensor`` of the class's dtype."""

    dtype: np.dtype

    def __call__(cls, *args, requires_grad: bool = False, device=None):
        from ffnn.device import check_device
        from ffnn.tensor import Tensor, _to_array

        check_device(device)
        if all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args) \
                or (len(args) == 1 and type(args[0]).__name__ == "Size"):
            shape = tuple(args[0]) if len(args) == 1 and not isinstance(args[0], int) else args
            return Tensor._of(np.zeros(tuple(int(n) for n in shape), cls.dtype),
                          requires_grad=requires_grad)
        if len(args) != 1:
            raise TypeError(f"{cls.__name__}() takes sizes (ints) or one sequence of data. "
                            f"Received: {len(args)} arguments")
        data = args[0]
        if isinstance(data, Tensor):
            data = data.numpy()
        return Tensor._of(_to_array(data, cls.dtype), requires_grad=requires_grad)

    def __instancecheck__(cls, obj) -> bool:
        from ffnn.tensor import Tensor

        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


class FloatTensor(metaclass=_TensorType):
    dtype = np.dtype("float32")


class DoubleTensor(metaclass=_TensorType):
    dtype = np.dtype("float64")


class HalfTensor(metaclass=_TensorType):
    dtype = np.dtype("float16")


class LongTensor(metaclass=_TensorType):
    dtype = np.dtype("int64")


class IntTensor(metaclass=_TensorType):
    dtype = np.dtype("int32")


class ShortTensor(metaclass=_TensorType):
    dtype = np.dtype("int16")


class CharTensor(metaclass=_TensorType):
    dtype = np.dtype("int8")


class ByteTensor(metaclass=_TensorType):
    dtype = np.dtype("uint8")


class BoolTensor(metaclass=_TensorType):
    dtype = np.dtype("bool")


TYPES = (FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor,
         ByteTensor, BoolTensor)
_BY_DTYPE = {t.dtype: t for t in TYPES}


def type_name(dtype) -> str:
    """``'torch.FloatTensor'`` for float32, and so on (torch's ``Tensor.type()`` string)."""
    found = _BY_DTYPE.get(np.dtype(dtype))
    if found is None:
        raise TypeError(f"no legacy tensor type for dtype {np.dtype(dtype)}")
    return f"torch.{found.__name__}"


def type_by_name(name: str) -> _TensorType:
    """The class for ``'torch.FloatTensor'`` / ``'FloatTensor'``; TypeError for others."""
    short = name.removeprefix("torch.").removeprefix("cuda.")
    for t in TYPES:
        if t.__name__ == short:
            return t
    raise TypeError(f"unknown tensor type. Received: {name!r} (expected e.g. "
                    "'torch.FloatTensor' or 'torch.LongTensor')")
