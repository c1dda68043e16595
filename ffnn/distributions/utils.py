"""Helpers the distributions share, with torch's names (``torch.distributions.utils``):
broadcasting parameters, probabilities ⇄ logits, lazily computed parameters, and the
noise that ``rsample`` reparameterises."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ffnn import autograd, dtypes, torch_stream
from ffnn.nn import functional as F
from ffnn.size import Size
from ffnn.tensor import Tensor

euler_constant = 0.57721566490153286060  # Euler–Mascheroni γ

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits",
           "lazy_property", "euler_constant", "tril_matrix_to_vec", "vec_to_tril_matrix"]


def is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, Tensor)


def broadcast_all(*values) -> tuple[Tensor, ...]:
    """Each value as a tensor, all broadcast to one shape: numbers take the dtype of the
    first tensor among ``values`` (the default dtype when there is none).

    Raises ValueError for a value that is neither a number nor a Tensor."""
    if not all(isinstance(v, Tensor) or is_number(v) for v in values):
        raise ValueError("Input arguments must all be instances of Number or ffnn.Tensor. "
                         f"Received: {[type(v).__name__ for v in values]}")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = first.dtype if first is not None else dtypes.get_default_dtype()
    tensors = [v if isinstance(v, Tensor) else Tensor._make(np.asarray(v, dtype), False, None)
               for v in values]
    shape = np.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if t.shape == shape else t.expand(shape) for t in tensors)


def standard_normal(shape, dtype) -> Tensor:
    """N(0, 1) noise of ``shape`` from the global generator, outside any graph: torch's
    ``_standard_normal`` (``empty(shape).normal_()``), the same numbers."""
    return Tensor._make(torch_stream.normal(None, tuple(shape), dtype), False, None)


def uniform(shape, dtype, low: float = 0.0, high: float = 1.0) -> Tensor:
    """U[low, high) noise of ``shape`` from the global generator, outside any graph: torch's
    ``rand(shape)`` / ``empty(shape).uniform_(low, high)``, the same numbers."""
    return Tensor._make(torch_stream.uniform(None, tuple(shape), dtype, low, high), False, None)


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """σ(logits) for log-odds (``is_binary``), else softmax over the last dimension."""
    return logits.sigmoid() if is_binary else F.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to [ε, 1 - ε], ε the dtype's machine epsilon."""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log p - log(1 - p) for binary probabilities, else log p (p clamped away from 0, 1)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:  # noqa: N801 - torch's name
    """A parameter computed on first access (with gradients recorded) and then stored on
    the instance, as torch's: ``Bernoulli(logits=l).probs`` is σ(l), computed once."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        self.__name__ = wrapped.__name__
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with autograd.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def as_size(shape) -> Size:
    return shape if isinstance(shape, Size) else Size(tuple(shape))


def _tril_positions(n: int, diag: int) -> np.ndarray:
    """The flat positions (row-major) of the entries on or below diagonal ``diag``."""
    rows, cols = np.indices((n, n))
    return np.flatnonzero(cols < rows + diag + 1)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of (a batch of) n × n matrices on or below diagonal ``diag``, row by row.
    Raises ValueError for diag outside [-n, n - 1]."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    return flat[..., Tensor._of(_tril_positions(n, diag))]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of ``tril_matrix_to_vec``: n × n matrices, zeros above diagonal ``diag``
    (n solves n² + (1 + 2·diag)·n - |diag|(diag + 1) = 2·len). Raises ValueError when no
    n fits."""
    length = vec.shape[-1]
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * length + 4 * abs(diag) * (diag + 1))
         ** 0.5) / 2
    if round(n) - n > float(np.finfo(vec.dtype).eps):
        raise ValueError(f"The size of last dimension is {length} which cannot be expressed "
                         "as the lower triangular part of a square D x D matrix.")
    n = round(n)
    index = np.zeros(n * n, dtype=np.int64)  # 0: the zero put in front of vec
    index[_tril_positions(n, diag)] = np.arange(1, length + 1)
    padded = F.pad(vec, [1, 0], value=0.0)
    return padded[..., Tensor._of(index)].reshape(tuple(vec.shape[:-1]) + (n, n))
