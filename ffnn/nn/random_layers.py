"""Layers whose training forward draws random numbers besides Dropout: RReLU and
AlphaDropout, with torch's functional forms (``rrelu``, ``alpha_dropout``).

RReLU (training): y = x where x > 0, else r·x with r ~ U(lower, upper) drawn per element;
dL/dx = dL/dy · (1 or r). Eval: LeakyReLU with the slope (lower + upper)/2.

AlphaDropout (training), for SELU networks: keeps each element with probability 1 - p and
sets the others to SELU's negative limit α' = -λα, then an affine map a·y + b restores the
mean and variance: a = ((1 - p)(1 + p α'²))^{-1/2}, b = -a α' p. As torch computes it,
y = x·(m a) + (m - 1)·λα·a + λα·a·p with m the 0/1 mask; dL/dx = dL/dy · m a. Eval: identity.
"""

from __future__ import annotations

import math

import numpy as np

from ffnn import creation, ops
from ffnn import random as _random
from ffnn.nn.activation import SELU_ALPHA, SELU_SCALE
from ffnn.nn.functional import check_dropout_probability
from ffnn.nn.module import Module
from ffnn.nn.normalization import _DropoutNd
from ffnn.nn.traits import declare
from ffnn.tensor import Tensor

SATURATION = SELU_ALPHA * SELU_SCALE
"""λα ≈ 1.7581: the magnitude of SELU's negative limit, where AlphaDropout sends a dropped
element."""


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False, *, generator=None) -> Tensor:
    """Randomized leaky ReLU: slopes r ~ U(lower, upper) for x ≤ 0 when training, else the
    fixed slope (lower + upper)/2. ValueError when training with lower > upper (torch's
    check, at the same point)."""
    _check_floating("rrelu", input)
    if not training:
        return ops.leaky_relu(input, (lower + upper) / 2)
    _check_range(lower, upper)
    data = input._data
    slopes = _random.rng(generator).uniform(lower, upper, data.shape).astype(data.dtype)
    noise = np.where(data <= 0, slopes, np.ones((), data.dtype))
    return input * Tensor._of(noise)


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False, *, generator=None) -> Tensor:
    """Dropout that keeps SELU's self-normalisation (the module docstring's a, b)."""
    check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    _check_floating("alpha_dropout", input)
    data = input._data
    if p == 1.0:
        return input * Tensor._of(np.zeros((), data.dtype))
    kept = (_random.rng(generator).random(data.shape) >= p).astype(data.dtype)
    a = 1.0 / math.sqrt((SATURATION * SATURATION * p + 1.0) * (1.0 - p))
    shift = (kept - 1.0) * (SATURATION * a) + SATURATION * a * p
    return input * Tensor._of((kept * a).astype(data.dtype)) + Tensor._of(shift.astype(data.dtype))


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """softmax((logits + g)/τ) with g = −log E, E ~ Exp(1) (Gumbel noise): a differentiable
    sample from the categorical distribution of ``logits``. ``hard``: the one-hot of its
    largest entry in the forward, the soft sample's gradient in the backward
    (y_hard − sg(y_soft) + y_soft, the straight-through estimator)."""
    if not isinstance(logits, Tensor):
        raise TypeError(f"gumbel_softmax: logits must be a Tensor. Received: "
                        f"{type(logits).__name__}")
    noise = -ops.log(creation.zeros_like(logits).exponential_())
    soft = ops.softmax((logits + noise) / tau, dim)
    if not hard:
        return soft
    index = soft.max(dim, keepdim=True)[1]
    one_hot = creation.zeros_like(logits).scatter_(dim, index, 1.0)
    return one_hot - soft.detach() + soft


def _check_floating(name: str, input: Tensor) -> None:
    if not isinstance(input, Tensor) or input._data.dtype.kind != "f":
        raise TypeError(f"{name}: input must be a floating-point Tensor. Received: "
                        f"{getattr(input, 'dtype', type(input).__name__)}")


def _check_range(lower: float, upper: float) -> None:
    if not lower <= upper:
        raise ValueError(f"rrelu: lower must not exceed upper. Received: lower={lower}, "
                         f"upper={upper}")


class RReLU(Module):
    """Randomized leaky ReLU (``rrelu``): random slopes in [lower, upper] while training,
    their mean in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False,
                 generator=None):
        super().__init__()
        self.lower, self.upper, self.inplace, self.generator = lower, upper, inplace, generator

    def forward(self, input: Tensor) -> Tensor:
        return rrelu(input, self.lower, self.upper, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace
                                                             else "")


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks (``alpha_dropout``); identity in eval."""

    def forward(self, input: Tensor) -> Tensor:
        return alpha_dropout(input, self.p, self.training, generator=self.generator)


# ----- traits: spec, ONNX (eval), torch, element-wise -----------------------------------------
def _onnx_rrelu(g, m, x, path):
    """Eval: LeakyReLU with the mean slope."""
    return g.node("LeakyRelu", [x], path, alpha=(m.lower + m.upper) / 2)


declare(RReLU, config=("lower", "upper"), torch="RReLU", elementwise=True, onnx=_onnx_rrelu,
        rowwise=lambda m: not m.training)
declare(AlphaDropout, config=("p",), onnx=lambda g, m, x, path: x, torch="AlphaDropout",
        elementwise=True, rowwise=lambda m: not m.training or m.p == 0)
