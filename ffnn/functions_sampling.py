"""torch's function forms of random sampling (their methods: ``ffnn.tensor_sampling``):
``torch.multinomial``, ``torch.bernoulli`` and ``torch.poisson``, drawn from ``generator``
or ffnn's global seeded generator."""

from __future__ import annotations

import numpy as np

from ffnn import torch_binomial, torch_serial
from ffnn.functions_more import _as_tensor
from ffnn.tensor import Tensor

__all__: list[str] = ["multinomial", "bernoulli", "poisson", "binomial"]


def multinomial(input, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """``num_samples`` int64 category indices per row of the weights ``input`` (K,) or
    (R, K), each drawn with probability wᵢ / Σw (see ``Tensor.multinomial``)."""
    return _as_tensor(input).multinomial(num_samples, replacement, generator=generator)


def bernoulli(input, p: float | None = None, *, generator=None) -> Tensor:
    """0/1 samples in ``input``'s dtype, 1 with probability ``input`` (or ``p``)."""
    return _as_tensor(input).bernoulli(p, generator=generator)


def poisson(input, generator=None) -> Tensor:
    """Poisson(λ) counts for each rate λ of ``input`` (float, λ ≥ 0), in ``input``'s dtype:
    P(k) = λᵏ e^{-λ} / k!; torch's numbers (``ffnn.torch_serial``).

    Raises RuntimeError for a negative, NaN or infinite rate."""
    rates = _as_tensor(input).numpy()
    if rates.dtype.kind != "f":
        raise NotImplementedError(f"poisson: rates must be floating point. Received: dtype "
                                  f"{rates.dtype}")
    if not np.all(rates >= 0):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative "
                           "(NaN is not)")
    if not np.all(np.isfinite(rates)):
        raise RuntimeError("invalid Poisson rate, expected a finite rate. Received: inf")
    return Tensor._make(torch_serial.poisson(generator, rates), False, None)


def binomial(count, prob, generator=None) -> Tensor:
    """Binomial(n, p) counts for each pair of ``count`` n and ``prob`` p (broadcast; float),
    in their dtype: P(k) = C(n, k) pᵏ (1 - p)ⁿ⁻ᵏ; torch's numbers (``ffnn.torch_binomial``).

    Raises ValueError for an integer ``count``."""
    count, prob = _as_tensor(count).numpy(), _as_tensor(prob).numpy()
    if count.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{count.dtype}")
    return Tensor._make(torch_binomial.binomial(generator, count, prob), False, None)
