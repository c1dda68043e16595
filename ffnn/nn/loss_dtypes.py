"""The dtypes of a loss whose input and target differ in dtype, as torch's: most losses
compute in the promoted dtype (a float32 output against float64 targets gives a float64
loss; each gradient keeps its input's dtype), a few refuse the pair."""

from __future__ import annotations

import numpy as np

from ffnn.autograd import Op
from ffnn.tensor import Tensor
from ffnn.type_promotion import result_type


def torch_name(dtype) -> str:
    """torch's C++ name of a dtype (``Float``, ``Double``, ``Long`` …)."""
    from ffnn.tensor_inplace import _torch_name

    return _torch_name(dtype)


def promoted(input: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """(input, target) both in their promoted dtype (``torch.result_type``), through
    ``.to`` so that each gradient comes back in its own tensor's dtype."""
    if input._data.dtype == target._data.dtype:  # the common case, at no cost
        return input, target
    dtype = result_type(input, target)
    if input.dtype != dtype:
        input = input.to(dtype)
    if target.dtype != dtype:
        target = target.to(dtype)
    return input, target


def refuse_bool(target: Tensor) -> None:
    """torch's error for a loss that subtracts a bool target."""
    if target.dtype == np.bool_:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def check_same_dtype(input: Tensor, target: Tensor) -> None:
    """torch's error for a loss that takes its target in the input's dtype only
    (``binary_cross_entropy``)."""
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {torch_name(target.dtype)} but expected "
                           f"{torch_name(input.dtype)}")


class _RefusedBackward(Op):
    """The identity, whose backward raises ``message`` (torch's error at backward time)."""

    def forward(self, x, message=""):
        self.message = message
        return x

    def backward(self, grad):
        raise RuntimeError(self.message)


def backward_refused(loss: Tensor, input: Tensor, target: Tensor) -> Tensor:
    """``loss``, whose backward raises torch's error when input and target differ in dtype
    (``huber_loss``: its forward runs in the input's dtype, its backward refuses)."""
    if target.dtype == input.dtype or not loss.requires_grad:
        return loss
    message = (f"Found dtype {torch_name(target.dtype)} but expected "
               f"{torch_name(input.dtype)}")
    return _RefusedBackward.apply(loss, message=message)
