"""Channel dropout for [N, C, L] (or an unbatched [C, L]): each sample's channel is zeroed
whole with probability p and the kept ones scaled by 1/(1 − p), the mask m [N, C, 1] drawn
once per call: y = x · m/(1 − p), dL/dx = dL/dy · m/(1 − p). Eval: identity."""

from __future__ import annotations

import numpy as np

from ffnn import torch_stream
from ffnn.nn.functional import check_dropout_probability
from ffnn.nn.normalization import _DropoutNd
from ffnn.ops.dropout import keep_scale
from ffnn.tensor import Tensor


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              *, generator=None) -> Tensor:
    """Zero whole channels of [N, C, L] or [C, L] with probability p (the module docstring)."""
    check_dropout_probability(p)
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
        kept = torch_stream.bernoulli(generator, channels, 1.0 - p)  # torch's, few draws
        scale = kept.astype(input.dtype) * keep_scale(p, input.dtype)
    mask = Tensor._make(scale, False, None)
    return input._inplace(lambda x: x * mask) if inplace else input * mask


class Dropout1d(_DropoutNd):
    """``dropout1d`` in training mode, identity in eval."""

    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training, self.inplace, generator=self.generator)
