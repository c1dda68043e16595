"""torch's CPU samplers that draw a varying number of times per element: ``_sample_dirichlet``
(Beta's samples: Marsaglia and Tsang's gamma rejection method) and ``poisson`` (products of
uniforms below 10, Hörmann's transformed rejection from 10), on torch's stream
(``ffnn.torch_stream``), so that a seed gives torch's numbers.

Each element is sampled in turn from float64 uniforms (a 64-bit draw each, 53 bits) and
torch's ``normal_distribution<double>`` (pairs of uniforms, the second normal of a pair kept
on the generator for the next normal draw, whoever makes it). The arithmetic is float64, as
torch's (``ATen/native/Distributions.h``, ``Distributions.cpp``); the constants written as
float literals there (1/3, 0.0331) are their float32 values. A generator that does not draw
torch's numbers (``torch_stream.exact``) samples with NumPy's methods.
"""

from __future__ import annotations

import math

import numpy as np

from ffnn import random as _random
from ffnn import torch_stream

THIRD = float(np.float32(1.0) / np.float32(3.0))
"""torch's ``1.0f / 3.0f``: 1/3 rounded to float32."""
SQUEEZE = float(np.float32(0.0331))
"""torch's ``0.0331f``: the squeeze test's constant, rounded to float32."""


class Draws:
    """torch's draws one at a time: :meth:`uniform` a float64 uniform on [0, 1), :meth:`normal`
    a ``normal_distribution<double>`` sample. Drawn ahead in blocks; :meth:`close` leaves the
    bit generator just past the draws used (MT19937 cannot step back, so it is put back at
    its start and moved on by that many)."""

    def __init__(self, generator, ahead: int) -> None:
        self._owner = generator or _random.default_generator
        self._bits = torch_stream.bits_of(generator)
        self._start = self._bits.state
        self._ahead = max(int(ahead), 16)
        self._buffer: list[float] = []
        self._used = 0

    def uniform(self) -> float:
        if self._used == len(self._buffer):
            block = max(self._ahead, len(self._buffer))
            self._buffer += torch_stream.unit64(self._bits, block).tolist()
        self._used += 1
        return self._buffer[self._used - 1]

    def normal(self) -> float:
        """r·cos θ of a fresh pair (u1, u2): r = √(-2·log1p(-u2)), θ = 2π·u1, keeping r·sin θ
        for the next call; or the kept one."""
        kept = self._owner.normal_cache
        if kept is not None:
            self._owner.normal_cache = None
            return kept
        u1 = self.uniform()
        first, self._owner.normal_cache = torch_stream.box_muller_pair(u1, self.uniform())
        return first

    def close(self) -> None:
        self._bits.state = self._start
        torch_stream.random64(self._bits, self._used)


def gamma_one(alpha: float, draws: Draws, single: bool = False) -> float:
    """One Gamma(α, 1) sample (torch's ``sample_gamma<double, double>``): for α < 1,
    (1 - u)^(1/α) times a Gamma(α + 1) sample; Gamma(α) for α ≥ 1 is d·(1 + c·x)³ with
    d = α - 1/3, c = 1/√(9d), x ~ N(0, 1) drawn until 1 + c·x > 0, accepted for a fresh
    u' = 1 - u when u' < 1 - 0.0331·x⁴ or log u' < x²/2 + d·(1 - v + log v), v = (1 + c·x)³.

    ``single``: torch's ``sample_gamma<float, double>`` (``_standard_gamma`` of a float32
    tensor), where 1/α, α + 1 and d = α - 1/3 are float32 operations."""
    real = np.float32 if single else float
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return 0.0
        scale *= (1.0 - draws.uniform()) ** float(real(1.0) / real(alpha))
        alpha = real(alpha) + real(1.0)
    d = float(real(alpha) - real(THIRD))
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = draws.normal()
        y = 1.0 + c * x
        while y <= 0:
            x = draws.normal()
            y = 1.0 + c * x
        v = y * y * y
        u = 1.0 - draws.uniform()
        xx = x * x
        if u < 1.0 - SQUEEZE * xx * xx or math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def poisson_one(rate: float, draws: Draws) -> int:
    """One Poisson(λ) count (torch's ``sample_poisson``): below 10 the number of uniforms
    whose running product stays above e^{-λ}; from 10 Hörmann's transformed rejection (PTRS)."""
    if rate >= 10:
        return _transformed_rejection(rate, draws)
    if rate == 0:
        return 0
    bound, product, count = math.exp(-rate), 1.0, 0
    while True:
        product *= draws.uniform()
        if product <= bound:
            return count
        count += 1


def _transformed_rejection(rate: float, draws: Draws) -> int:
    """Hörmann (1993): k = ⌊(2a/u_s + b)·U + λ + 0.43⌋, U + ½ and V uniforms, u_s = ½ - |U|,
    accepted in the box (u_s ≥ 0.07, V ≤ v_r) or by the log-density test."""
    root, log_rate = math.sqrt(rate), math.log(rate)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = draws.uniform() - 0.5
        v = draws.uniform()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + rate + 0.43)
        if us >= 0.07 and v <= v_r:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inverse_alpha) - math.log(a / (us * us) + b) <= \
                -rate + k * log_rate - math.lgamma(k + 1):
            return k


def _each(generator, values: np.ndarray, sample_one, per_element: int) -> np.ndarray:
    """``sample_one(v, draws)`` for each value in C order (float64), drawing from
    ``generator`` (None: the global one)."""
    flat = values.reshape(-1).tolist()
    draws = Draws(generator, per_element * len(flat))
    try:
        out = np.array([sample_one(float(v), draws) for v in flat], dtype=np.float64)
    finally:
        draws.close()
    return out.reshape(values.shape)


def dirichlet(generator, concentration: np.ndarray) -> np.ndarray:
    """torch's ``_sample_dirichlet``: Gamma(αᵢ, 1) samples in float64 (at least its smallest
    normal), each divided by their sum over the last dimension, rounded to α's dtype and
    kept within [smallest normal, the float below 1]."""
    if torch_stream.exact(generator):
        gamma = _each(generator, concentration, gamma_one, 3)
    else:
        gamma = _random.rng(generator).standard_gamma(concentration.astype(np.float64))
    gamma = np.maximum(gamma, np.finfo(np.float64).tiny)
    ratio = (gamma / gamma.sum(-1, keepdims=True)).astype(concentration.dtype)
    kind = np.finfo(concentration.dtype)
    return np.clip(ratio, kind.tiny, np.nextafter(concentration.dtype.type(1), 0))


def standard_gamma(generator, concentration: np.ndarray) -> np.ndarray:
    """torch's ``_standard_gamma``: a Gamma(αᵢ, 1) sample per element in α's dtype (float32
    arithmetic for float32 α, as torch's), at least the dtype's smallest normal."""
    single = concentration.dtype == np.float32
    if torch_stream.exact(generator):
        gamma = _each(generator, concentration,
                      lambda a, draws: gamma_one(a, draws, single), 3)
    else:
        gamma = _random.rng(generator).standard_gamma(concentration.astype(np.float64))
    gamma = gamma.astype(concentration.dtype)
    return np.maximum(gamma, np.finfo(concentration.dtype).tiny)


def poisson(generator, rates: np.ndarray) -> np.ndarray:
    """torch's ``poisson(rates)``: a count per rate, in the rates' dtype."""
    if not torch_stream.exact(generator):
        return _random.rng(generator).poisson(rates.astype(np.float64)).astype(rates.dtype)
    return _each(generator, rates, poisson_one, 2).astype(rates.dtype)
