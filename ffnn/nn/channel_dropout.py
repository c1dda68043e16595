"""Channel dropout for [N, C, L] (or an unbatched [C, L]): each sample's channel is zeroed
whole with probability p and the kept ones scaled by 1/(1 − p), the mask m [N, C, 1] drawn
once per call: y = x · m/(1 − p), dL/dx = dL/dy · m/(1 − p). Eval: identity."""

from __future__ import annotations

import numpy as np

from ffnn import random as _random
from ffnn.nn.module import Module
from ffnn.tensor import Tensor


def _check_probability(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              *, generator=None) -> Tensor:
    """Zero whole channels of [N, C, L] or [C, L] with probability p (the module docstring)."""
    _check_probability(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout "
                           "on inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    if not training or p == 0.0:
        return input
    channels = input.shape[:-1] + (1,)
    if p == 1.0:
        scale = np.zeros(channels, input.dtype)
    else:
        kept = _random.rng(generator).random(channels) >= p
        scale = kept.astype(input.dtype) * input.dtype.type(1 / (1 - p))
    mask = Tensor._make(scale, False, None)
    return input._inplace(lambda x: x * mask) if inplace else input * mask


class Dropout1d(Module):
    """``dropout1d`` in training mode, identity in eval."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _check_probability(p)
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
