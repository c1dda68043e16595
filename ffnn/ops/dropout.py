"""Dropout: an element-wise product with a random mask, kept for the backward."""

from __future__ import annotations

import math

import numpy as np

from ffnn import accel
from ffnn.autograd import Op
from ffnn.backend import xp
from ffnn.kernels import ElementwiseKernel
from ffnn.ops.elementwise import constant_like
from ffnn.ops.pointwise import split_call


class Dropout(Op):
    """Inverted dropout: y = x · mask / (1 - p), mask ~ Bernoulli(1 - p);
    dL/dx = dL/dy · mask / (1 - p). The mask is drawn from the given NumPy generator.

    With the compiled kernels, one pass each way (``DROPOUT``), keeping the mask as bool
    (a byte an element); otherwise the NumPy reference, which keeps mask / (1 - p)."""

    def forward(self, x, p=0.5, rng=None):
        m = xp(x)
        if p >= 1:
            self.keep, self.scale = None, m.zeros(x.shape, dtype=x.dtype)
            return x * self.scale
        keep = keep_mask(rng, x.shape, p)
        if accel.usable(x):
            self.keep, self.factor = keep, keep_scale(p, x.dtype)
            return _apply_mask(x, keep, self.factor)
        self.keep, self.scale = None, m.asarray(keep, dtype=x.dtype) * keep_scale(p, x.dtype)
        return x * self.scale

    def backward(self, grad):
        if self.keep is not None:
            grad = accel.dense(grad, self.keep.shape, grad.dtype)
            return (_apply_mask(grad, self.keep, self.factor),)
        return (grad * self.scale,)

    def backward_graph(self, grad, x):
        return (self.masked(grad),)

    def masked(self, t):
        """The tensor ``t`` times this call's mask / (1 - p), recorded (a tensor-form
        backward; the chain node's layers computed again)."""
        scale = self.scale if self.keep is None else self.keep * t.dtype.type(self.factor)
        return t * constant_like(t, scale)


DROPOUT = ElementwiseKernel("dropout", reads=("x", "keep"), writes=("y",),
                            body="y = x * (scale if keep else 0.0)", scalars=("scale",))
"""y = x · s where the keep mask (bool) is set, else x · 0: the reference's product with
mask · s, s = 1/(1 - p) rounded to x's dtype; forward (x) and backward (dL/dy) alike."""


def keep_scale(p: float, dtype: np.dtype) -> float:
    """What a kept element is multiplied by, torch's: 1 / (1 - p) divided in ``dtype``
    (float32: 1/(1 - 0.15) is 1.1764705, one ulp under 1/0.85 rounded once), as a Python
    float (the kernels take their scalars as float64; this one is exact in ``dtype``)."""
    dtype = np.dtype(dtype)
    return float(dtype.type(1) / dtype.type(1 - p))


def _apply_mask(x: np.ndarray, keep: np.ndarray, scale: float) -> np.ndarray:
    """``DROPOUT`` on a C-contiguous float array and its bool mask of the same shape, split
    over OpenBLAS's threads from ``PYTHON_SPLIT_MIN`` elements (as an activation's backward;
    each element the same product)."""
    y = np.empty_like(x)
    arrays = [x.reshape(-1), keep.reshape(-1), y.reshape(-1)]
    if x.size < accel.PYTHON_SPLIT_MIN or not split_call(
            DROPOUT.entry(x.dtype, {"keep": np.bool_}), arrays, [scale]):
        DROPOUT.loop(x.dtype)(x.size, *arrays, scale)
    return y


GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MIX_1, MIX_2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
"""SplitMix64's constants (Steele, Lea & Flood 2014; Vigna's ``splitmix64.c``)."""
_MASK_64 = (1 << 64) - 1
_CHUNK = 1 << 15  # 64-bit values per NumPy pass: 256 KiB, so each pass stays in cache


def splitmix64(key: int, count: int) -> np.ndarray:
    """The first ``count`` outputs of SplitMix64 seeded with the 64-bit ``key``, as uint64:
    output i = mix(key + (i + 1)·γ), mix(z) = z₃ with z₁ = (z ^ z >> 30)·M₁,
    z₂ = (z₁ ^ z₁ >> 27)·M₂, z₃ = z₂ ^ z₂ >> 31 (wrapping 64-bit arithmetic). A counter-based
    generator: any output is computed from its index alone, so a compiled loop
    (``ffnn._kernels.keep_mask``) computes the same values in any order. NumPy, in chunks
    that stay in cache."""
    out = np.empty(count, np.uint64)
    scratch = np.empty(min(count, _CHUNK), np.uint64)
    steps = np.arange(1, len(scratch) + 1, dtype=np.uint64) * np.uint64(GOLDEN_GAMMA)
    for start in range(0, count, _CHUNK):
        z, t = out[start:start + _CHUNK], scratch[:min(_CHUNK, count - start)]
        np.add(steps[:len(t)], np.uint64((key + start * GOLDEN_GAMMA) & _MASK_64), out=z)
        for shift, factor in ((30, MIX_1), (27, MIX_2)):
            np.right_shift(z, np.uint64(shift), out=t)
            z ^= t
            z *= np.uint64(factor)
        np.right_shift(z, np.uint64(31), out=t)
        z ^= t
    return out


def mask_key(rng: np.random.Generator, p: float) -> tuple[int, int]:
    """(key, threshold) of a keep mask at drop probability ``p`` < 1: one 64-bit draw of
    ``rng`` and ⌊p·2³²⌉ (at most 2³² - 1), what ``keep_mask`` computes its bits from (the
    compiled chains draw the mask in their kernel from the same two numbers)."""
    return int(rng.bit_generator.random_raw()), min(round(p * 2.0**32), 2**32 - 1)


def keep_mask(rng: np.random.Generator, shape: tuple, p: float,
              out: np.ndarray | None = None) -> np.ndarray:
    """A boolean mask of ``shape``, each entry True with probability 1 - p: entry j is
    whether the 32-bit half j of SplitMix64's outputs (``splitmix64``; the low half of
    output i is entry 2i, the high half 2i + 1), keyed by one 64-bit draw of ``rng``, is at
    least ⌊p·2³²⌉. One draw per mask, whatever its size, so the generator's stream moves on
    by one; compiled (``ffnn._kernels.keep_mask``) when numba is at hand, the same bits.
    ``out``: a C-contiguous bool array of ``shape`` to write the mask into."""
    n = math.prod(shape)
    key, threshold = mask_key(rng, p)
    if accel.enabled:  # one compiled call, at any size (NumPy's takes ten passes)
        keep = np.empty(shape, bool) if out is None else out
        accel.keep_mask(key, threshold, keep.reshape(-1))
        return keep
    bits = splitmix64(key, (n + 1) // 2).view(np.uint32)[:n]
    keep = (bits >= np.uint32(threshold)).reshape(shape)
    if out is None:
        return keep
    out[...] = keep
    return out
