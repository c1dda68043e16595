"""``FeatureAlphaDropout`` and torch's ``feature_alpha_dropout``: AlphaDropout with one draw
per channel. For input [N, C, *], each (sample, channel) slice is kept with probability 1 - p
or sent whole to SELU's negative limit α' = -λα; then y = a·y + b restores the mean and
variance, with a = ((1 - p)(1 + p α'²))^{-1/2}, b = -a α' p (``random_layers``' AlphaDropout
constants). As torch computes it, y = x·(m a) + (m - 1)·λα·a + λα·a·p with m ∈ {0, 1} of
shape [N, C, 1, …]; dL/dx = dL/dy · m a. Eval (or p = 0): identity; p = 1: zeros."""

from __future__ import annotations

import math

import numpy as np

from ffnn import random as _random
from ffnn.nn.functional import check_dropout_probability
from ffnn.nn.normalization import _DropoutNd
from ffnn.nn.random_layers import SATURATION, _check_floating
from ffnn.nn.traits import declare
from ffnn.tensor import Tensor


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False, *, generator=None) -> Tensor:
    """Channel-wise alpha dropout (module docstring). ValueError for p outside [0, 1];
    RuntimeError (torch's) for a training input with fewer than 2 dims."""
    check_dropout_probability(p)
    if not training or p == 0.0 or input.numel() == 0:
        return input
    _check_floating("feature_alpha_dropout", input)
    data = input._data
    if p == 1.0:
        return input * Tensor._of(np.zeros((), data.dtype))
    if data.ndim < 2:
        raise RuntimeError(f"Feature dropout requires at least 2 dimensions in the input. "
                           f"Received: shape {tuple(data.shape)}")
    noise_shape = data.shape[:2] + (1,) * (data.ndim - 2)
    kept = (_random.rng(generator).random(noise_shape) >= p).astype(data.dtype)
    a = 1.0 / math.sqrt((SATURATION * SATURATION * p + 1.0) * (1.0 - p))
    shift = (kept - 1.0) * (SATURATION * a) + SATURATION * a * p
    return input * Tensor._of((kept * a).astype(data.dtype)) + Tensor._of(shift.astype(data.dtype))


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (``feature_alpha_dropout``), for SELU networks; input
    [N, C, *]; identity in eval."""

    def forward(self, input: Tensor) -> Tensor:
        return feature_alpha_dropout(input, self.p, self.training, generator=self.generator)


declare(FeatureAlphaDropout, config=("p",), onnx=lambda g, m, x, path: x,
        torch="FeatureAlphaDropout", elementwise=True,
        rowwise=lambda m: not m.training or m.p == 0)
