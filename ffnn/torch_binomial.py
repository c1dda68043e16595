"""torch's CPU ``binomial(count, prob)`` sampler (``ATen/native/Distributions.h``), on torch's
stream through ``torch_serial.Draws``, so that a seed gives torch's counts: no draws for
count ≤ 0, p ≤ 0 or p ≥ 1; for p > ½ the count minus a draw for 1 - p; n·p < 10 by inversion
(the number of Geometric(p) waiting times ⌈log u / log(1 - p)⌉ whose sum stays within n),
else Hörmann's transformed rejection with squeeze (BTRS).

For a float32 tensor torch does n·p, 1 - p, log1p(-p), n·p·(1 - p) and (n + 1)·p in
float32 arithmetic; ``single`` does the same.
"""

from __future__ import annotations

import math

import numpy as np

from ffnn import random as _random
from ffnn import torch_serial, torch_stream

_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
         0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
         0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k: float) -> float:
    """log k! - (k + ½)log(k + 1) + (k + 1) - ½log 2π, tabulated below 10."""
    if k < len(_TAIL):
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _inversion(count, prob, draws, real) -> float:
    logprob = float(np.log1p(real(-prob)))
    geom_sum, num_geom = 0.0, 0.0
    while True:
        geom_sum += math.ceil(math.log(draws.uniform()) / logprob)
        if geom_sum > count:
            return num_geom
        num_geom += 1


def _btrs(count, prob, draws, real) -> float:
    n, p = float(count), float(prob)
    stddev = float(np.sqrt(real(real(count) * real(prob)) * real(real(1) - real(prob))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = float(real(count) * real(prob)) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(real(prob) / (real(1) - real(prob)))
    alpha = (2.83 + 5.1 / b) * stddev
    m = float(np.floor(real(real(count) + real(1)) * real(prob)))
    while True:
        u = draws.uniform() - 0.5
        v = draws.uniform()
        us = 0.5 - abs(u)
        k = float(math.floor((2 * a / us + b) * u + c))
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (r * (n - m + 1)))
                 + (n + 1) * math.log((n - m + 1) / (n - k + 1))
                 + (k + 0.5) * math.log(r * (n - k + 1) / (k + 1))
                 + _stirling_tail(m) + _stirling_tail(n - m)
                 - _stirling_tail(k) - _stirling_tail(n - k))
        if v <= upper:
            return k


def binomial_one(count, prob, draws, single: bool = False) -> float:
    """One Binomial(count, prob) count (torch's ``sample_binomial``)."""
    real = np.float32 if single else np.float64
    count, prob = real(count), real(prob)
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return float(count)
    if math.isnan(prob):
        return math.nan
    flip = prob > 0.5
    q = real(real(1) - prob) if flip else prob
    if real(count * q) >= 10.0:
        k = _btrs(count, q, draws, real)
    else:
        k = _inversion(count, q, draws, real)
    return float(count) - k if flip else k


def binomial(generator, count: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """torch's ``binomial(count, prob)``: a count per element (C order), in prob's dtype."""
    count, prob = np.broadcast_arrays(count, prob)
    if not torch_stream.exact(generator):
        draw = _random.rng(generator).binomial(count.astype(np.int64), np.clip(prob, 0, 1))
        return draw.astype(prob.dtype)
    single = prob.dtype == np.float32
    pairs = list(zip(count.reshape(-1).tolist(), prob.reshape(-1).tolist()))
    draws = torch_serial.Draws(generator, 2 * len(pairs))
    try:
        out = [binomial_one(n, p, draws, single) for n, p in pairs]
    finally:
        draws.close()
    return np.array(out, dtype=prob.dtype).reshape(prob.shape)
