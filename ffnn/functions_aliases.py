"""torch's function forms of the other names for arithmetic, the bitwise and integer
functions, the sign and infinity tests, unique_consecutive and histogram (the methods:
``ffnn.tensor_aliases``), ``vdot``, ``adjoint`` and ``split_with_sizes``
(``ffnn.tensor_extras``), the functions torch has no method for: ``rsub`` and ``isin``, and
the dense layout ``strided``."""

from __future__ import annotations

import numpy as np

from ffnn.functions_more import _as_tensor, _method_form
from ffnn.tensor import Tensor
from ffnn.tensor_aliases import rsub as _rsub
from ffnn.tensor_arrays import _array, _plain
from ffnn.tensor_extras import strided

METHOD_FORMS = (
    "subtract", "multiply", "divide", "negative", "negative_", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift", "gcd", "gcd_",
    "lcm", "lcm_", "signbit", "isneginf", "isposinf", "isreal", "unique_consecutive",
    "histogram", "vdot", "adjoint", "split_with_sizes",
)

__all__ = [*METHOD_FORMS, "rsub", "isin", "strided"]

for _name in METHOD_FORMS:
    globals()[_name] = _method_form(_name)


def rsub(input, other, alpha=1) -> Tensor:  # noqa: A002 - torch's names
    """other − alpha · input."""
    return _rsub(_as_tensor(input), other, alpha)


def isin(elements, test_elements, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """A bool tensor of ``elements``' shape: whether each entry equals one of
    ``test_elements`` (the opposite with ``invert``); either may be a number, not both."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__}), but "
                        "expected a Tensor for elements or test_elements")
    values, tests = np.asarray(_array(elements)), np.asarray(_array(test_elements))
    for array in (values, tests):
        if array.dtype.kind == "b":
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    return _plain(np.isin(values, tests, assume_unique=assume_unique, invert=invert))
