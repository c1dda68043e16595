"""Tensor methods that draw random samples (``ffnn.functions_sampling`` has their function
forms).

Every draw comes from ``generator`` or ffnn's global seeded generator (``ffnn.manual_seed``),
torch's numbers for the same seed (``ffnn.torch_stream``). Samples are outside any graph
(torch does not differentiate them either).
"""

from __future__ import annotations

import numpy as np


def _tensor_cls():
    from ffnn.tensor import Tensor

    return Tensor


def _rng(generator) -> np.random.Generator:
    from ffnn import random as _random

    return _random.rng(generator)


def _plain(values) -> object:
    """A tensor of ``values`` outside any graph."""
    return _tensor_cls()._make(np.asarray(values), False, None)


def _check_weights(weights: np.ndarray) -> None:
    """torch's errors for a multinomial's probabilities (1-d or 2-d, finite, ≥ 0, sum > 0)."""
    if weights.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{weights.dtype}")
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim. Received: shape {weights.shape}")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(weights.sum(-1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def _with_replacement(weights: np.ndarray, num_samples: int, rng) -> np.ndarray:
    """Inverse-CDF draws from each row of ``weights`` (R, K) → (R, n): the category i with
    F(i-1) ≤ u < F(i) for u ~ U[0, 1), F the row's normalised cumulative sum. Each row is
    shifted by its index r so that one sorted search serves all rows; a category of weight 0
    has an empty interval (before and after the shift) and is never drawn."""
    rows, k = weights.shape
    cdf = np.cumsum(weights, axis=-1)
    cdf = cdf / cdf[:, -1:] + np.arange(rows)[:, None]
    targets = rng.random((rows, num_samples)) + np.arange(rows)[:, None]
    index = np.searchsorted(cdf.reshape(-1), targets.reshape(-1), side="right")
    index = index.reshape(rows, num_samples) - k * np.arange(rows)[:, None]
    last_positive = k - 1 - np.argmax(weights[:, ::-1] > 0, axis=-1)
    return np.minimum(index, last_positive[:, None])  # u + r rounded up to r + 1


def _without_replacement(weights: np.ndarray, num_samples: int, rng) -> np.ndarray:
    """Sequential draws without repeats, all at once by the exponential race: category i
    finishes at Eᵢ/wᵢ (Eᵢ ~ Exp(1)) and the first ``num_samples`` to finish are, in order,
    a sequential sample without replacement. Zero weights come after every positive one, in
    random order (torch too returns them when a row has too few positive categories)."""
    clocks = rng.standard_exponential(weights.shape)
    with np.errstate(divide="ignore"):
        keys = np.where(weights > 0, weights / clocks, -clocks)
    return np.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]


def _check_in(name: str, what: str, value, low, high, closed: bool) -> None:
    inside = low <= value <= high if closed else low < value < high
    if not inside:
        brackets = "[]" if closed else "()"
        raise RuntimeError(f"{name} expects {what} to be in {brackets[0]}{low}, {high}"
                           f"{brackets[1]}, but got {what}={value}")


def _check_float(self, name: str) -> None:
    if self.dtype.kind != "f":
        raise RuntimeError(f"{name}: a continuous distribution needs a floating point tensor. "
                           f"Received: dtype {self.dtype}")


def _check_positive(name: str, what: str, value) -> None:
    if not value > 0:
        raise RuntimeError(f"{name} expects {what} > 0.0, but found {what}={value}")


def _torchs_draw(generator, rows: np.ndarray, count: int, replacement: bool):
    """torch's multinomial where the generator draws torch's numbers (else None): with
    replacement by its cumulative sums; without, or for one sample a row (torch's fast path
    either way), the first ``count`` of w / q, q ~ Exp(1) in the weights' dtype (torch's
    exponential race)."""
    from ffnn import torch_stream

    if replacement and count > 1:
        return torch_stream.categories(generator, rows, count)
    clocks = torch_stream.exponentials(generator, rows.shape, rows.dtype) \
        if rows.dtype.kind == "f" else None
    if clocks is None:
        return None
    return np.argsort(-(rows / clocks), axis=-1, kind="stable")[:, :count]


class SamplingTensorMethods:
    """Mixed into ``ffnn.Tensor``: ``multinomial``, ``bernoulli`` and the in-place fills
    ``exponential_``, ``geometric_``, ``cauchy_``, ``log_normal_`` (``random_``,
    ``normal_``, ``uniform_`` and ``bernoulli_`` are defined beside the other in-place ops)."""

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
        """``num_samples`` category indices (int64) per row of the weights ``self`` (K,) or
        (R, K), drawn with probability wᵢ / Σw; shape (n,) or (R, n).

        Raises RuntimeError for weights that are negative, inf or NaN, a row summing to 0,
        ``num_samples`` ≤ 0, or more samples than categories without replacement."""
        weights = self.numpy()
        _check_weights(weights)
        num_samples = int(num_samples)
        if num_samples <= 0:
            raise RuntimeError(f"cannot sample n_sample <= 0 samples. Received: {num_samples}")
        if not replacement and num_samples > weights.shape[-1]:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               f"replacement. Received: num_samples={num_samples}, "
                               f"{weights.shape[-1]} categories")
        rows = weights.reshape(-1, weights.shape[-1])
        samples = _torchs_draw(generator, rows, num_samples, replacement) if rows.size else None
        if samples is None:
            draw = _with_replacement if replacement else _without_replacement
            samples = draw(rows.astype(np.float64), num_samples, _rng(generator)) \
                if rows.size else np.zeros((rows.shape[0], num_samples), np.int64)
        return _plain(samples.reshape(weights.shape[:-1] + (num_samples,)).astype(np.int64))

    def bernoulli(self, p: float | None = None, *, generator=None):
        """0/1 samples in ``self``'s dtype: 1 with probability ``self`` (each entry, in [0, 1]),
        or with probability ``p`` for every entry when ``p`` is given."""
        if p is None:
            probs = self.numpy()
            if probs.dtype.kind != "f":
                raise NotImplementedError(f"bernoulli: probabilities must be floating point. "
                                          f"Received: dtype {probs.dtype}")
            if not np.all((probs >= 0) & (probs <= 1)):
                raise RuntimeError("bernoulli: expected every probability in [0, 1] (NaN is "
                                   "not). Received: input outside [0, 1]")
        else:
            _check_in("bernoulli", "p", p, 0, 1, closed=True)
            probs = float(p)
        from ffnn import torch_stream

        draw = torch_stream.bernoulli(generator, self.shape, np.broadcast_to(probs, self.shape)
                                      if isinstance(probs, np.ndarray) else probs)
        return _plain(draw.astype(self.numpy().dtype))

    def exponential_(self, lambd: float = 1.0, *, generator=None):
        """Fill with Exp(λ) samples: density λ·e^{-λx} on x ≥ 0, mean 1/λ."""
        _check_float(self, "exponential_")
        _check_positive("exponential_", "lambda", lambd)
        from ffnn import torch_stream

        def draw(shape):
            drawn = torch_stream.exponentials(generator, shape, self._data.dtype, lambd)
            return _rng(generator).standard_exponential(shape) / lambd if drawn is None \
                else drawn

        self._fill_drawn(draw)
        return self

    def geometric_(self, p: float, *, generator=None):
        """Fill with the number of Bernoulli(p) trials up to the first success:
        P(k) = (1-p)^{k-1}·p for k = 1, 2, … (torch's: ⌈log u / log(1 - p)⌉)."""
        _check_in("geometric_", "p", p, 0, 1, closed=False)
        from ffnn import torch_stream

        dtype = self._data.dtype
        self._fill_drawn(lambda shape: torch_stream.geometrics(generator, shape, dtype, p))
        return self

    def cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None):
        """Fill with Cauchy samples: density 1 / (πσ(1 + ((x - median)/σ)²)) (torch's:
        median + σ·tan(π(u - ½)))."""
        _check_float(self, "cauchy_")
        _check_positive("cauchy_", "sigma", sigma)
        from ffnn import torch_stream

        dtype = self._data.dtype
        self._fill_drawn(lambda shape: torch_stream.cauchys(generator, shape, dtype, median,
                                                            sigma))
        return self

    def log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None):
        """Fill with exp(N(mean, std²)) samples (``mean`` and ``std`` are of the log)."""
        _check_float(self, "log_normal_")
        _check_positive("log_normal_", "std", std)
        from ffnn import torch_stream

        dtype = self._data.dtype
        self._fill_drawn(lambda shape: torch_stream.log_normals(generator, shape, dtype, mean,
                                                                std))
        return self
